from django.db import models

NATIONS = [("ENG", "England"), ("WLS", "Wales"), ("SCT", "Scotland"), ("NIR", "Northern Ireland")]


class ClosureDay(models.Model):
    """A day that is not a working day beyond the bank holidays the `holidays` package knows.

    For example a bank holiday proclaimed at short notice, or a day the competent authority is closed.
    A blank nation applies to all four.
    """

    date = models.DateField()
    nation = models.CharField(max_length=3, choices=NATIONS, blank=True)
    description = models.CharField(max_length=200)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["date", "nation"], name="closure_day_unique")]

    def __str__(self) -> str:
        return f"{self.date} {self.nation or 'all nations'}: {self.description}"

"""Whom a decision maker may assign cases to, as the referral page and the work queue offer it."""

from opennrm.decisions.assignment import assignable_people, assignable_teams

UNASSIGN = "nobody"


def assign_targets(user) -> list[tuple[str, str]]:
    """What "Assign selected to" offers: me, each colleague, each team, nobody."""

    def label(username: str, first_name: str, last_name: str) -> str:
        name = "Me" if username == user.username else f"{first_name} {last_name}".strip()
        return f"{name} ({username})" if name else username

    # Plain values: an authority may have hundreds of decision makers.
    people = [
        (f"user:{row[0]}", label(*row))
        for row in assignable_people(actor=user).values_list("username", "first_name", "last_name")
    ]
    people.sort(key=lambda option: option[0] != f"user:{user.username}")
    teams = [
        (f"team:{pk}", f"{name} (the team, no one in it yet)")
        for pk, name in assignable_teams(actor=user).values_list("pk", "name")
    ]
    return people + teams + [(UNASSIGN, "Nobody (unassign)")]

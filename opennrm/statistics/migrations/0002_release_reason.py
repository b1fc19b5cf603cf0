from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("statistics", "0001_extract_and_release")]

    operations = [
        migrations.AddField(
            model_name="release",
            name="reason",
            field=models.TextField(blank=True, default=""),
        ),
    ]

from django.db import migrations

from accounts.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [append_only("support_accesslog")]

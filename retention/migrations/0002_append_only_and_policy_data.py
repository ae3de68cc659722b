from django.db import migrations

from accounts.append_only import append_only


def load_policy(apps, schema_editor):
    """Ship the help article and the default settings row with the schema."""
    import hashlib

    from retention.policy.article import shipped_article
    from retention.services.documents import article_version

    PolicyDocument = apps.get_model("retention", "PolicyDocument")
    PolicySection = apps.get_model("retention", "PolicySection")
    PolicySettings = apps.get_model("retention", "PolicySettings")
    article = shipped_article()
    digest = hashlib.sha256(article.text.encode("utf-8")).hexdigest()
    if not PolicyDocument.objects.filter(source_sha256=digest).exists():
        document = PolicyDocument.objects.create(
            version=article_version(article.text),
            title=article.title,
            source_sha256=digest,
            text=article.text,
            is_current=True,
        )
        PolicySection.objects.bulk_create(
            PolicySection(
                document=document,
                anchor=s.anchor,
                heading=s.heading,
                level=s.level,
                position=s.position,
                body=s.body,
            )
            for s in article.sections
        )
    PolicySettings.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_initial")]

    operations = [
        append_only("retention_deletionreceipt"),
        append_only("retention_policysettingchange"),
        migrations.RunPython(load_policy, migrations.RunPython.noop),
    ]

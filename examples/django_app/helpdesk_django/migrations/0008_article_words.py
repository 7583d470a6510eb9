"""The words of stored articles, split again: helpdesk_core's words now keep combining
marks (a Devanagari, Tamil or Thai word is one word, where it was cut at each vowel sign)
and come from the NFC form of the text (``cafe`` with a combining acute is ``café``), so
the word rows and word counts written before no longer match the words a query asks for.
Tickets need nothing: similar tickets come from the library's in-memory index."""

from collections import Counter
from typing import Any

from django.db import migrations

from helpdesk_core.codec import structure
from helpdesk_core.knowledge import Article, article_words
from helpdesk_core.storage.codecs import loads


def _split(apps: Any, schema_editor: Any) -> None:
    articles = apps.get_model("helpdesk", "ArticleRecord")
    words = apps.get_model("helpdesk", "ArticleWord")
    using = schema_editor.connection.alias
    for row in articles.objects.using(using).only("pk", "data", "word_count").iterator():
        counts = Counter(article_words(structure(loads(row.data), Article)))
        stored = dict(
            words.objects.using(using).filter(article_id=row.pk).values_list("word", "count")
        )
        if stored == dict(counts) and row.word_count == sum(counts.values()):
            continue
        words.objects.using(using).filter(article_id=row.pk).delete()
        words.objects.using(using).bulk_create(
            words(article_id=row.pk, word=word, count=count) for word, count in counts.items()
        )
        articles.objects.using(using).filter(pk=row.pk).update(word_count=sum(counts.values()))


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0007_ticket_type")]

    operations = [migrations.RunPython(_split, migrations.RunPython.noop)]

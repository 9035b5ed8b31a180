"""the categories of « Ma demande » and their FAQ (data/faq.yaml)

Revision ID: helpdesk0002
Revises: helpdesk0001
Create Date: 2026-11-28 10:00:00
"""
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

from achats.helpdesk.search import index_fields

revision = 'helpdesk0002'
down_revision = 'helpdesk0001'
branch_labels = None
depends_on = None

SEED = Path(__file__).resolve().parents[2] / "data" / "faq.yaml"
# Stable ids: the seeded categories and questions have the same id in every database.
NAMESPACE = uuid.UUID("6f1f3a52-1d0e-4c1b-9a57-3c2b8f0e7d41")

categories = sa.table("categories", sa.column("id", sa.Uuid()), sa.column("slug", sa.String()),
                      sa.column("label", sa.String()), sa.column("description", sa.Text()),
                      sa.column("position", sa.Integer()), sa.column("active", sa.Boolean()),
                      sa.column("created_at", sa.DateTime(timezone=True)),
                      sa.column("updated_at", sa.DateTime(timezone=True)))
entries = sa.table("faq_entries", sa.column("id", sa.Uuid()), sa.column("category_id", sa.Uuid()),
                   sa.column("question", sa.String()), sa.column("answer", sa.Text()),
                   sa.column("keywords", sa.String()), sa.column("position", sa.Integer()),
                   sa.column("active", sa.Boolean()), sa.column("search_question", sa.Text()),
                   sa.column("search_answer", sa.Text()), sa.column("created_at", sa.DateTime(timezone=True)),
                   sa.column("updated_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    category_rows, entry_rows = [], []
    for position, category in enumerate(data["categories"], start=1):
        category_id = uuid.uuid5(NAMESPACE, category["slug"])
        category_rows.append({"id": category_id, "slug": category["slug"], "label": category["label"],
                              "description": category.get("description"), "position": position * 10,
                              "active": True, "created_at": now, "updated_at": now})
        for rank, entry in enumerate(category["entries"], start=1):
            keywords = entry.get("keywords", "")
            entry_rows.append({"id": uuid.uuid5(category_id, entry["question"]), "category_id": category_id,
                               "question": entry["question"], "answer": entry["answer"], "keywords": keywords,
                               "position": rank * 10, "active": True, "created_at": now, "updated_at": now,
                               **index_fields(entry["question"], keywords, entry["answer"])})
    op.bulk_insert(categories, category_rows)
    op.bulk_insert(entries, entry_rows)


def downgrade() -> None:
    op.execute(entries.delete())
    op.execute(categories.delete())

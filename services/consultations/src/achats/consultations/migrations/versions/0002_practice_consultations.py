"""the practice consultations (data/consultations.yaml)

Revision ID: consultations0002
Revises: consultations0001
Create Date: 2026-12-07 08:05:00
"""
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

from achats.consultations.catalogue import anchor, search_text

revision = 'consultations0002'
down_revision = 'consultations0001'
branch_labels = None
depends_on = None

SEED = Path(__file__).resolve().parents[2] / "data" / "consultations.yaml"
# Stable ids: a practice consultation has the same id in every database.
NAMESPACE = uuid.UUID("3d0b8f52-6c1e-4f7a-9b2d-8e5a7c41f019")

consultations = sa.table(
    "consultations", sa.column("id", sa.Uuid()), sa.column("reference", sa.String()),
    sa.column("title", sa.String()), sa.column("buyer", sa.String()), sa.column("procedure", sa.String()),
    sa.column("contract_type", sa.String()), sa.column("summary", sa.Text()), sa.column("cpv_codes", sa.JSON()),
    sa.column("practice", sa.Boolean()), sa.column("deadline_anchor", sa.DateTime(timezone=True)),
    sa.column("deadline_days", sa.Integer()), sa.column("search_text", sa.Text()),
    sa.column("created_at", sa.DateTime(timezone=True)))
lots = sa.table("lots", sa.column("id", sa.Uuid()), sa.column("consultation_id", sa.Uuid()),
                sa.column("number", sa.Integer()), sa.column("title", sa.String()), sa.column("cpv_codes", sa.JSON()))


def upgrade() -> None:
    data = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    rows, lot_rows = [], []
    for item in data["consultations"]:
        consultation_id = uuid.uuid5(NAMESPACE, item["reference"])
        summary = " ".join(item["summary"].split())
        rows.append({"id": consultation_id, "reference": item["reference"], "title": item["title"],
                     "buyer": item["buyer"], "procedure": item["procedure"], "contract_type": item["contract_type"],
                     "summary": summary, "cpv_codes": item["cpv_codes"], "practice": True,
                     "deadline_anchor": anchor(now), "deadline_days": item["deadline_days"],
                     "search_text": search_text(item["reference"], item["title"], item["buyer"], summary,
                                                [lot["title"] for lot in item["lots"]]),
                     "created_at": now})
        lot_rows += [{"id": uuid.uuid5(consultation_id, str(lot["number"])), "consultation_id": consultation_id,
                      "number": lot["number"], "title": lot["title"], "cpv_codes": lot["cpv_codes"]}
                     for lot in item["lots"]]
    op.bulk_insert(consultations, rows)
    op.bulk_insert(lots, lot_rows)


def downgrade() -> None:
    op.execute(lots.delete())
    op.execute(consultations.delete())

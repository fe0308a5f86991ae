"""The ledger summed per closed UTC day, merchant and kind, for the platform's dashboard.

A day is summed once it has been over for an hour (no transaction stays open that long, so
no row of that day can still commit); the ledger is append-only and a row's time is when it
was written, so a closed day's sums never change. Newer rows are read from the ledger itself.
"""
from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.extensions import db


class LedgerDay(db.Model):
    __tablename__ = "ledger_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    rows: Mapped[int] = mapped_column(Integer, nullable=False)
    stamps: Mapped[int] = mapped_column(BigInteger, nullable=False)
    points: Mapped[int] = mapped_column(BigInteger, nullable=False)

"""Reference for `leadctl list --limit 20`: a minimal Typer + SQLModel script
that runs one SELECT and prints a Rich table. It is the floor of the stack
leadctl is built on; leadctl should add no start-up cost beyond it."""

from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Field, Session, SQLModel, create_engine, select

app = typer.Typer()


class Lead(SQLModel, table=True):
    __tablename__ = "lead"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str | None = None
    company: str | None = None
    status: str
    score: int
    next_call_at: datetime | None = None


@app.command()
def main(db: str, limit: int = 20) -> None:
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        leads = session.exec(select(Lead).order_by(Lead.score.desc()).limit(limit)).all()
    table = Table()
    for column in ("ID", "Name", "Company", "Status", "Score", "Next call", "Email"):
        table.add_column(column)
    for lead in leads:
        table.add_row(
            str(lead.id),
            lead.name,
            lead.company or "",
            lead.status,
            str(lead.score),
            str(lead.next_call_at or ""),
            lead.email or "",
        )
    Console().print(table)


if __name__ == "__main__":
    app()

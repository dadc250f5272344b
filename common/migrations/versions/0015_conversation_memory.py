"""Memory for long conversations.

- `messages.embedding`: the message's vector (all-MiniLM-L6-v2, 384 dimensions), filled off the turn's path,
  for recalling the earlier messages most relevant to a new question.
- `messages.context`: on an answer, what its model was given (the window's message ids, the summary, the
  recalled message ids), so the context of any turn can be inspected.
- `conversations.summary` / `summary_through`: the running summary of the messages older than the window, and
  the time of the last message it covers.

Revision ID: 0015
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE messages ADD COLUMN embedding vector(384)")
    op.execute("ALTER TABLE messages ADD COLUMN context jsonb")
    op.execute("ALTER TABLE conversations ADD COLUMN summary text")
    op.execute("ALTER TABLE conversations ADD COLUMN summary_through timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE conversations DROP COLUMN summary_through")
    op.execute("ALTER TABLE conversations DROP COLUMN summary")
    op.execute("ALTER TABLE messages DROP COLUMN context")
    op.execute("ALTER TABLE messages DROP COLUMN embedding")

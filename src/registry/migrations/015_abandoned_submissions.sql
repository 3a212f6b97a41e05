-- Submissions the gateway answered Failure for while their job might still run: the queue failed in the
-- middle of the request (Redis lost with the job written, or no answer in time). The gateway and the
-- worker's commit take the same transaction-scoped advisory lock on the submission id, so exactly one of
-- "committed" (a submission_sets row) and "abandoned" (a row here) ever exists: a commit finding its
-- submission here rolls back. Rows older than a day are purged (a job's deadline is far shorter).
create table if not exists abandoned_submissions (
  submission_id text primary key,
  abandoned_at timestamptz not null default now()
);

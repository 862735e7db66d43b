-- An assignment run goes from queued to done, infeasible or failed inside one job transaction, so
-- no reader could ever see it "running"; nothing wrote the state. The vocabulary
-- (competition/vocabulary.py) and this constraint name the states that exist.
ALTER TABLE assignment_run
    DROP CONSTRAINT assignment_run_status_check,
    ADD CONSTRAINT assignment_run_status_check
        CHECK (status IN ('queued', 'done', 'infeasible', 'failed', 'deployed'));

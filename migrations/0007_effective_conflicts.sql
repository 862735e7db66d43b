-- Every reason a juror must not judge a company's entries, in one place: the conflicts jurors
-- declared or organisers recorded, and membership of the company (owner or member) of the
-- juror's account, which needs no declaration and counts from the moment it starts.
-- Assignment, access, scoring and results all ask this view, never the conflict table alone.
CREATE VIEW juror_company_conflict AS
    SELECT x.juror_id, x.company_id, x.type AS reason
    FROM conflict x
    UNION ALL
    SELECT j.id AS juror_id, m.company_id, 'member' AS reason
    FROM juror j
    JOIN company_member m ON m.account_id = j.account_id;

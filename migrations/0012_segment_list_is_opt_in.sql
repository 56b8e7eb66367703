-- A segment whose CRM list is itself the record of opt-in: the evidence recorded with the opt-in
-- event of each member when it joins. NULL: membership says nothing about consent.
ALTER TABLE segments ADD COLUMN list_opt_in_evidence text;

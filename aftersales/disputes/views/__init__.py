"""The dispute pages: the desk's (the operator's queue and a dispute's page) and the portal's
(opening one from a case, its page, a juror's vote)."""

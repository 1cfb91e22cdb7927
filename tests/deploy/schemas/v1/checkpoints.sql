PRAGMA user_version = 1;
BEGIN TRANSACTION;
CREATE TABLE source_state (
    name TEXT PRIMARY KEY,
    since TEXT,
    resume TEXT,
    run_mark TEXT,
    state TEXT NOT NULL DEFAULT 'idle',
    last_started TEXT,
    last_finished TEXT,
    last_success TEXT,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    next_due TEXT,
    totals TEXT NOT NULL DEFAULT '{}',
    last_run TEXT NOT NULL DEFAULT '{}',
    owner TEXT,
    lease_until TEXT
);
INSERT INTO "source_state" VALUES('mundi-s2','2024-03-01T12:00:00+00:00',NULL,NULL,'ok',NULL,NULL,NULL,NULL,0,NULL,'{"stored": 42}','{}',NULL,NULL);
COMMIT;

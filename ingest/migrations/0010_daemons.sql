-- 0010: a heartbeat row per running daemon (ingest/schedule.py), so that `newsingest status` shows next runs
-- only for sources a live daemon schedules. The daemon updates its row every heartbeat_seconds and deletes it on
-- a clean stop; a row not seen for a few heartbeats is a daemon that died. schedule: per source it schedules,
-- {"next_run_at": ISO time or null, "interval": seconds or null, "cron": expression or null}.
CREATE TABLE daemons (
    daemon_id          text PRIMARY KEY,
    host               text NOT NULL,
    pid                integer NOT NULL,
    started_at         timestamptz NOT NULL,
    last_seen_at       timestamptz NOT NULL DEFAULT now(),
    heartbeat_seconds  double precision NOT NULL,
    schedule           jsonb NOT NULL DEFAULT '{}'
);

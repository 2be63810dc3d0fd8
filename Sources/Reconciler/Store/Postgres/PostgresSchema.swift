/// The PostgreSQL store's versioned migrations: the state tables of the SQLite store (at its v9) and the audit chain
/// as a table, appended under the lock on `audit_head` in the transaction of the state change it announces.
enum PostgresSchema {
    /// The session advisory lock `state copy` holds while it writes (agents hold leases instead).
    static let agentLock = 7_235_002

    /// Applied in order, each once, in its own transaction; never edited once released (add one instead).
    static let migrations: [(version: String, sql: String)] = [
        (
            "v1-state-and-chain",
            """
            CREATE TABLE stages (
                pipeline text NOT NULL, stage text NOT NULL, current text, previous text,
                health text NOT NULL DEFAULT 'Unknown', updated_at timestamptz, blocked_reason text, phase text,
                PRIMARY KEY (pipeline, stage));
            CREATE TABLE promotions (
                id bigserial PRIMARY KEY, pipeline text NOT NULL, stage text NOT NULL, candidate text NOT NULL,
                previous text, status text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz,
                reason text, spec_digest text NOT NULL);
            CREATE INDEX promotions_by_stage ON promotions (pipeline, stage, candidate);
            CREATE TABLE step_runs (
                id bigserial PRIMARY KEY, promotion_id bigint NOT NULL REFERENCES promotions, phase text NOT NULL,
                name text NOT NULL, attempt integer NOT NULL, exit_status integer, duration_ms bigint NOT NULL,
                output_sha256 text, log_path text, result text NOT NULL);
            CREATE TABLE valid_specs (pipeline text PRIMARY KEY, json text NOT NULL, file text NOT NULL, commit_id text NOT NULL);
            CREATE TABLE plan_pipelines (name text PRIMARY KEY, json text NOT NULL);
            CREATE TABLE audited_once (key text PRIMARY KEY);
            CREATE TABLE source_state (id integer PRIMARY KEY CHECK (id = 1), url text NOT NULL, last_fetch timestamptz,
                last_error text);
            CREATE TABLE markers (name text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE retries (
                pipeline text NOT NULL, stage text NOT NULL, candidate text NOT NULL, requested_at timestamptz NOT NULL,
                requested_by text NOT NULL, reason text NOT NULL, PRIMARY KEY (pipeline, stage, candidate));
            CREATE TABLE audit_head (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL);
            INSERT INTO audit_head VALUES (1, 0, '\(AuditRecord.genesis)');
            CREATE TABLE audit_records (
                seq bigint PRIMARY KEY, line text NOT NULL, hash text NOT NULL UNIQUE, type text NOT NULL,
                pipeline text, stage text, candidate text, recorded_at timestamptz NOT NULL);
            CREATE INDEX audit_records_by_stage ON audit_records (pipeline, stage, seq);
            -- The chain is append-only: no role the agent uses may rewrite history without the trigger saying so.
            CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'audit_records is append-only (% of seq %)', TG_OP, OLD.seq; END $$;
            CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
                FOR EACH ROW EXECUTE FUNCTION audit_records_append_only();
            """
        ),
        (
            "v2-agents-and-claims",
            """
            -- Every agent that joined, with its lease; lost_at marks one whose claims another agent took.
            CREATE TABLE agents (
                instance text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, pid_namespace text NOT NULL,
                process_start text NOT NULL,
                started_at timestamptz NOT NULL DEFAULT now(), heartbeat_at timestamptz NOT NULL DEFAULT now(),
                lease_until timestamptz NOT NULL, lost_at timestamptz, stopped_at timestamptz);
            -- Once-only duties (recording passes, health checks, checkpoints) go to the holder of a row here.
            CREATE TABLE duties (name text PRIMARY KEY, holder text NOT NULL, until timestamptz NOT NULL);
            -- Which agent runs a promotion: only it may write for the promotion (fencing).
            ALTER TABLE promotions ADD COLUMN agent text;
            -- Never two promotions of one stage at once, whichever agents try.
            CREATE UNIQUE INDEX promotions_one_running ON promotions (pipeline, stage) WHERE status = 'running';
            -- Writes retried after a lost connection must not happen twice when the first commit went through.
            ALTER TABLE promotions ADD COLUMN claim text UNIQUE;
            ALTER TABLE audit_records ADD COLUMN append_id text;
            CREATE INDEX audit_records_by_append ON audit_records (append_id) WHERE append_id IS NOT NULL;
            """
        ),
    ]

    /// Applies the migrations not yet applied; several agents starting at once take turns (an advisory lock).
    static func migrate(_ connection: PostgresConnection) throws {
        try connection.transaction {
            try connection.execute("SELECT pg_advisory_xact_lock(7235001)")
            try connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            let applied = Set(try connection.execute("SELECT version FROM schema_migrations").rows.compactMap { $0.first ?? nil })
            for migration in migrations where !applied.contains(migration.version) {
                try connection.executeScript(migration.sql)
                try connection.execute("INSERT INTO schema_migrations (version) VALUES ($1)", [migration.version])
            }
        }
    }
}

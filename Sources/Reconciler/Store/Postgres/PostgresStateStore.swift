import Foundation
import SpecModel
import Synchronization

/// The agent's state in PostgreSQL (`state.postgres.urlEnv`), for several agents sharing one database: the tables of
/// the SQLite store, and the audit chain as a table (`PostgresStateStore+Chain`). One connection, used by one
/// caller at a time.
public final class PostgresStateStore: StateStore, @unchecked Sendable {
    let connection: PostgresConnection
    /// Where it connects (an agent's lease keeps a connection of its own there).
    let url: String
    private let lock = NSLock()
    let planRows = PlanRowDecoder()

    /// Connects and (unless only reading) applies the migrations not applied yet; `retryFor` bounds how long a
    /// statement waits for a lost database. `soleAgent` takes the database's
    /// writer lock — a session lock, taken again on every reconnection — and refuses when another holds it or an
    /// agent's lease is live (`state copy` writes only into a database nobody acts on).
    public init(url: String, migrate: Bool = true, soleAgent: Bool = false, retryFor: TimeInterval = 60) throws {
        self.url = url
        self.retryFor = retryFor
        connection = try PostgresConnection(url: url) { connection in
            try connection.execute("SET TIME ZONE 'UTC'")
            guard soleAgent else { return }
            let taken = try connection.execute("SELECT pg_try_advisory_lock(\(PostgresSchema.agentLock)) AS taken")
            guard taken.value("taken", row: 0) == "t" else {
                throw PostgresError(kind: .fatal, sqlState: nil, message: "another state copy is writing to this database")
            }
        }
        if migrate { try PostgresSchema.migrate(connection) }
        if soleAgent, let live = try? liveAgents(on: connection), !live.isEmpty {
            throw PostgresError(
                kind: .fatal, sqlState: nil,
                message: "agents are running on this database (\(live.joined(separator: ", "))); stop them first")
        }
    }

    /// This agent's lease, once it joined (`join`): every write is fenced by it.
    public var lease: AgentLease? { lock.withLock { joined } }
    private var joined: AgentLease?

    /// Makes every later write of this store fenced by `lease` (records carry its instance).
    public func join(_ lease: AgentLease) {
        lock.withLock { joined = lease }
    }

    /// Runs `body` with the connection, one caller at a time. A lost connection or a serialization conflict is
    /// retried (the transaction rolled back) with backoff for up to `retryFor`: a database restart or failover
    /// under a running agent delays its writes instead of failing its promotions.
    func locked<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try lock.withLock {
            let deadline = Date().addingTimeInterval(retryFor)
            var pause = 0.1
            while true {
                do {
                    return try body(connection)
                } catch let error as PostgresError where error.kind == .retry && Date() < deadline {
                    Thread.sleep(forTimeInterval: pause)
                    pause = min(pause * 2, 2)
                }
            }
        }
    }

    /// One write transaction. The crash tests name the write after which the agent is killed
    /// (`PA_TEST_KILL_AFTER_WRITE=N`: SIGKILL right after the N-th commit), to try every crash point in turn.
    static func write<T>(on connection: PostgresConnection, _ body: () throws -> T) throws -> T {
        let value = try connection.transaction(body)
        if let killAt = killAfterWrite, writes.add(1, ordering: .relaxed).newValue == killAt { kill(getpid(), SIGKILL) }
        return value
    }

    private static let killAfterWrite = ProcessInfo.processInfo.environment["PA_TEST_KILL_AFTER_WRITE"].flatMap(Int.init)
    private static let writes = Atomic<Int>(0)

    /// How long a statement waits for the database to come back before it fails (and the pass backs off).
    let retryFor: TimeInterval

    /// Milliseconds since 1970, the form dates travel in (SQLite keeps milliseconds too).
    static func ms(_ date: Date?) -> String? {
        date.map { String(Int64(($0.timeIntervalSince1970 * 1000).rounded())) }
    }

    static func date(_ text: String?) -> Date? {
        text.flatMap(Int64.init).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// A timestamptz column read as milliseconds, named as the column.
    static func msColumn(_ name: String) -> String { "(extract(epoch from \(name)) * 1000)::bigint AS \(name)" }

    static let stageColumns =
        "pipeline, stage, current, previous, health, \(msColumn("updated_at")), blocked_reason, phase"
    static let promotionColumns =
        "id, pipeline, stage, candidate, previous, status, \(msColumn("started_at")), \(msColumn("ended_at")), reason, spec_digest"

    public func stages() throws -> [StageKey: StageRecord] {
        try locked(Self.stages(on:))
    }

    static func stages(on connection: PostgresConnection) throws -> [StageKey: StageRecord] {
        let rows = try connection.execute("SELECT \(stageColumns) FROM stages")
        var stages: [StageKey: StageRecord] = [:]
        for index in rows.rows.indices {
            let field = { (name: String) in rows.value(name, row: index) }
            let key = StageKey(field("pipeline") ?? "", field("stage") ?? "")
            stages[key] = StageRecord(
                key: key, current: field("current"), previous: field("previous"),
                health: Health(rawValue: field("health") ?? "") ?? .unknown, updatedAt: date(field("updated_at")),
                blockedReason: field("blocked_reason"), phase: field("phase"))
        }
        return stages
    }

    public func promotions() throws -> [PromotionRecord] {
        try locked(Self.promotions(on:))
    }

    static func promotions(on connection: PostgresConnection) throws -> [PromotionRecord] {
        let rows = try connection.execute("SELECT \(promotionColumns) FROM promotions ORDER BY id")
        return rows.rows.indices.map { index in
            let field = { (name: String) in rows.value(name, row: index) }
            return PromotionRecord(
                id: Int64(field("id") ?? "") ?? 0, key: StageKey(field("pipeline") ?? "", field("stage") ?? ""),
                candidate: field("candidate") ?? "", previous: field("previous"),
                status: PromotionStatus(rawValue: field("status") ?? "") ?? .failed,
                startedAt: date(field("started_at")) ?? Date(timeIntervalSince1970: 0), endedAt: date(field("ended_at")),
                reason: field("reason"), specDigest: field("spec_digest") ?? "")
        }
    }

    /// Both as of one moment: a promotion ending between two reads would look verified while its stage still ran
    /// the old candidate.
    public func stagesAndPromotions() throws -> (stages: [StageKey: StageRecord], promotions: [PromotionRecord]) {
        try locked { connection in
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? connection.execute("COMMIT") }
            return (try Self.stages(on: connection), try Self.promotions(on: connection))
        }
    }

    public func retries() throws -> [RetryRecord] {
        try locked { connection in
            let rows = try connection.execute(
                "SELECT pipeline, stage, candidate, \(Self.msColumn("requested_at")), requested_by, reason FROM retries ORDER BY requested_at"
            )
            return rows.rows.indices.map { index in
                let field = { (name: String) in rows.value(name, row: index) ?? "" }
                return RetryRecord(
                    key: StageKey(field("pipeline"), field("stage")), candidate: field("candidate"),
                    requestedAt: Self.date(field("requested_at")) ?? Date(timeIntervalSince1970: 0),
                    requestedBy: field("requested_by"), reason: field("reason"))
            }
        }
    }

    public func stepRuns(promotion id: Int64) throws -> [StepRunRecord] {
        try locked { connection in
            let rows = try connection.execute("SELECT * FROM step_runs WHERE promotion_id = $1 ORDER BY id", [String(id)])
            return rows.rows.indices.map { index in
                let field = { (name: String) in rows.value(name, row: index) }
                return StepRunRecord(
                    promotionID: id, phase: field("phase") ?? "", name: field("name") ?? "",
                    attempt: Int(field("attempt") ?? "") ?? 0, exitStatus: field("exit_status").flatMap { Int32($0) },
                    durationMs: Int64(field("duration_ms") ?? "") ?? 0, outputSHA256: field("output_sha256"),
                    logPath: field("log_path"), result: field("result") ?? "")
            }
        }
    }

    public func validSpecs() throws -> [String: ValidSpec] {
        try locked { connection in
            let rows = try connection.execute("SELECT json, file, commit_id FROM valid_specs")
            var specs: [String: ValidSpec] = [:]
            for row in rows.rows {
                guard let json = row[0], let pipeline = try? JSONDecoder().decode(Pipeline.self, from: Data(json.utf8)) else {
                    continue
                }
                specs[pipeline.name] = ValidSpec(pipeline: pipeline, file: row[1] ?? "", commit: row[2] ?? "")
            }
            return specs
        }
    }

    public func sourceState() throws -> SourceState? {
        try locked { connection in
            let rows = try connection.execute("SELECT url, \(Self.msColumn("last_fetch")), last_error FROM source_state")
            return rows.rows.first.map { SourceState(url: $0[0] ?? "", lastFetch: Self.date($0[1]), lastError: $0[2]) }
        }
    }

    public func marker(_ name: String) throws -> String? {
        try locked { try $0.execute("SELECT value FROM markers WHERE name = $1", [name]).rows.first?[0] }
    }

    public func lastPlan() throws -> Plan? {
        let rows = try locked { try $0.execute("SELECT json FROM plan_pipelines ORDER BY name").rows }
        return planRows.plan(rows.compactMap { $0[0] })
    }

    public func auditAnchor() throws -> AuditAnchor? {
        try locked { try Self.head(on: $0) }
    }

    /// The chain's head moves only with its records (`append`): an anchor from elsewhere has no meaning here.
    public func setAuditAnchor(_ anchor: AuditAnchor) throws {
        throw PostgresError(
            kind: .fatal, sqlState: nil,
            message: "the PostgreSQL store keeps the audit chain itself; its head moves only with its records")
    }
}

import Foundation

/// A write refused because the agent no longer holds what it writes for: its lease ran out, or another agent took the
/// promotion. Nothing of the transaction is stored; the agent stops those promotions and rejoins.
public struct FencedWrite: Error, CustomStringConvertible, Sendable {
    public let instance: String
    public let reason: String

    public var description: String { "agent \(instance) may not write: \(reason) (fenced; nothing was written)" }
}

/// An agent sharing the database, as `status` shows it.
public struct AgentMember: Sendable, Hashable, Codable {
    public let instance: String
    public let host: String
    public let pid: Int
    public let startedAt: Date
    public let lastHeartbeat: Date
    public let leaseUntil: Date
    /// `live`, `lost` (its lease ran out; another agent took its promotions) or `stopped`.
    public let state: String
    /// Whether it holds the once-only duties.
    public let coordinator: Bool
    /// The promotions it runs now, as `pipeline/stage#id`.
    public let running: [String]
}

extension PostgresStateStore {
    /// Refuses the transaction unless this agent's lease is live and `promotions` are its own. The agents row is
    /// locked in share mode until the transaction ends, so another agent cannot declare it lost meanwhile.
    func fence(_ promotions: [Int64], as name: String?, on connection: PostgresConnection) throws {
        guard let name else { return }
        let live = try connection.execute(
            """
            SELECT 1 FROM agents WHERE instance = $1 AND lost_at IS NULL AND stopped_at IS NULL
            AND lease_until > clock_timestamp() FOR SHARE
            """, [name])
        guard live.rows.count == 1 else {
            throw FencedWrite(instance: name, reason: "its lease on the database ran out")
        }
        guard !promotions.isEmpty else { return }
        let foreign = try connection.execute(
            "SELECT id FROM promotions WHERE id = ANY($1::bigint[]) AND agent IS DISTINCT FROM $2",
            ["{\(promotions.map(String.init).joined(separator: ","))}", name])
        guard foreign.rows.isEmpty else {
            let ids = foreign.rows.compactMap { $0[0] }.map { "#\($0)" }.joined(separator: ", ")
            throw FencedWrite(instance: name, reason: "promotion \(ids) belongs to another agent now")
        }
    }

    /// The promotions `events` and `changes` write for (fenced to their agent).
    static func promotionIDs(_ events: [AuditEvent], _ changes: [StateChange]) -> [Int64] {
        var ids = Set<Int64>()
        for event in events { if case .int(let id) = event.detail["promotionId"] { ids.insert(id) } }
        for change in changes {
            switch change {
            case .stepRun(let run): ids.insert(run.promotionID)
            case .outcome(let outcome): ids.insert(outcome.promotion.id)
            default: break
            }
        }
        return ids.sorted()
    }

    /// Claims the promotion for this agent: one claim of a stage at a time (a transaction lock on the stage), and
    /// only while the stage's newest promotion is the one the plan saw and none runs. Nil when another agent won.
    public func claimPromotion(_ action: PromotionAction, specDigest: String, at date: Date) throws -> PromotionRecord? {
        let name = lease?.instance
        let claim = UUID().uuidString
        let claimed = { (id: String?) in
            PromotionRecord(
                id: Int64(id ?? "") ?? 0, key: action.key, candidate: action.candidate, previous: action.previous,
                status: .running, startedAt: date, endedAt: nil, reason: nil, specDigest: specDigest)
        }
        return try locked { connection in
            try Self.write(on: connection) {
                // Retried after a lost connection whose commit went through: the claim is this agent's already.
                if let earlier = try connection.execute("SELECT id FROM promotions WHERE claim = $1", [claim]).rows.first {
                    return claimed(earlier[0])
                }
                try fence([], as: name, on: connection)
                let key = action.key
                try connection.execute("SELECT pg_advisory_xact_lock(hashtext($1))", ["\(key.pipeline)/\(key.stage)"])
                let newest = try connection.execute(
                    """
                    SELECT coalesce(max(id), 0) AS newest, count(*) FILTER (WHERE status = 'running') AS running
                    FROM promotions WHERE pipeline = $1 AND stage = $2
                    """, [key.pipeline, key.stage])
                guard Int64(newest.value("newest", row: 0) ?? "") == action.basis ?? 0, newest.value("running", row: 0) == "0"
                else { return nil }
                let rows = try connection.execute(
                    """
                    INSERT INTO promotions (pipeline, stage, candidate, previous, status, started_at, spec_digest, agent, claim)
                    VALUES ($1, $2, $3, $4, 'running', to_timestamp($5::bigint / 1000.0), $6, $7, $8) RETURNING id
                    """, [key.pipeline, key.stage, action.candidate, action.previous, Self.ms(date), specDigest, name, claim])
                return claimed(rows.rows.first?[0] ?? nil)
            }
        }
    }

    /// Takes the running promotions of agents that are lost (lease run out) or gone, for this agent to recover by
    /// the crash rules; returns their ids. Two agents taking at once take each promotion once (row locks).
    public func takeOrphans() throws -> [Int64] {
        guard let name = lease?.instance else { return [] }
        return try locked { connection in
            try Self.write(on: connection) {
                try fence([], as: name, on: connection)
                try connection.execute(
                    "UPDATE agents SET lost_at = now() WHERE lost_at IS NULL AND stopped_at IS NULL AND lease_until < now()")
                let taken = try connection.execute(
                    """
                    UPDATE promotions SET agent = $1 WHERE status = 'running' AND (agent IS NULL OR agent NOT IN (
                        SELECT instance FROM agents WHERE lost_at IS NULL AND stopped_at IS NULL AND lease_until > now()))
                    RETURNING id
                    """, [name])
                return taken.rows.compactMap { $0[0].flatMap { Int64($0) } }.sorted()
            }
        }
    }

    /// Running promotions this agent owns (`ids` of those it runs are left out by the caller): one whose start failed
    /// after its claim was stored would block its stage while the agent lives.
    public func ownRunning() throws -> [(key: StageKey, id: Int64)] {
        guard let name = lease?.instance else { return [] }
        return try locked { connection in
            try connection.execute(
                "SELECT id, pipeline, stage FROM promotions WHERE status = 'running' AND agent = $1 ORDER BY id", [name]
            ).rows.compactMap { row in
                row[0].flatMap { Int64($0) }.map { (StageKey(row[1] ?? "", row[2] ?? ""), $0) }
            }
        }
    }

    /// Every agent that joined in the last day or is still live, newest first, with what each runs.
    public func agents() throws -> [AgentMember] {
        try locked { connection in
            let rows = try connection.execute(
                """
                SELECT a.instance, a.host, a.pid, \(Self.msColumn("started_at")), \(Self.msColumn("heartbeat_at")),
                  \(Self.msColumn("lease_until")),
                  CASE WHEN a.stopped_at IS NOT NULL THEN 'stopped'
                       WHEN a.lost_at IS NOT NULL OR a.lease_until < now() THEN 'lost' ELSE 'live' END AS state,
                  EXISTS (SELECT 1 FROM duties d WHERE d.holder = a.instance AND d.until > now()) AS coordinator,
                  (SELECT string_agg(p.pipeline || '/' || p.stage || '#' || p.id, ' ' ORDER BY p.id) FROM promotions p
                     WHERE p.agent = a.instance AND p.status = 'running') AS running
                FROM agents a WHERE a.lease_until > now() - interval '1 day' ORDER BY a.started_at DESC, a.instance
                """)
            return rows.rows.indices.map { index in
                let field = { (name: String) in rows.value(name, row: index) }
                let epoch = Date(timeIntervalSince1970: 0)
                return AgentMember(
                    instance: field("instance") ?? "", host: field("host") ?? "", pid: Int(field("pid") ?? "") ?? 0,
                    startedAt: Self.date(field("started_at")) ?? epoch, lastHeartbeat: Self.date(field("heartbeat_at")) ?? epoch,
                    leaseUntil: Self.date(field("lease_until")) ?? epoch, state: field("state") ?? "lost",
                    coordinator: field("coordinator") == "t",
                    running: (field("running") ?? "").split(separator: " ").map(String.init))
            }
        }
    }

    /// Whether any agent holds a live lease (`state copy` refuses to write under running agents).
    func liveAgents(on connection: PostgresConnection) throws -> [String] {
        let exists = try connection.execute("SELECT to_regclass('agents') IS NOT NULL AS present").value("present", row: 0)
        guard exists == "t" else { return [] }
        return try connection.execute(
            "SELECT instance FROM agents WHERE lost_at IS NULL AND stopped_at IS NULL AND lease_until > now()"
        ).rows.compactMap { $0[0] }
    }
}

import Foundation

extension PostgresStateStore {
    /// Appends `events` to the audit chain and applies `changes`, in one transaction that holds the chain head's row
    /// lock: agents sharing the database append one at a time, a record is never stored without the state change it
    /// announces (nor the change without its record), and a crash leaves both or neither.
    @discardableResult
    public func append(
        _ events: [AuditEvent], then changes: [StateChange] = [], at time: Date, redactor: SecretRedactor = .none
    ) throws -> [AuditRecord] {
        guard !events.isEmpty else { return [] }
        let agent = lease?.instance
        // Names this append across retries: a commit whose reply the lost connection swallowed is not made twice.
        let appendID = UUID().uuidString
        return try locked { connection in
            try Self.write(on: connection) {
                let head = try Self.head(on: connection, forUpdate: true)
                let earlier = try connection.execute(
                    "SELECT line FROM audit_records WHERE append_id = $1 ORDER BY seq", [appendID]
                ).rows.compactMap { $0[0] }
                if !earlier.isEmpty {
                    return try earlier.map { try JSONDecoder().decode(AuditRecord.self, from: Data($0.utf8)) }
                }
                try fence(Self.promotionIDs(events, changes), as: agent, on: connection)
                let records = AuditRecord.seal(
                    events, after: head, time: AuditTime.format(time), redactor: redactor, agent: agent)
                for record in records {
                    try connection.execute(
                        """
                        INSERT INTO audit_records (seq, line, hash, type, pipeline, stage, candidate, recorded_at, append_id)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8::bigint / 1000.0), $9)
                        """,
                        [
                            String(record.seq), record.canonicalLine, record.hash, record.type, record.pipeline,
                            record.stage, record.candidate, Self.ms(time), appendID,
                        ])
                }
                if let last = records.last {
                    try connection.execute(
                        "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", [String(last.seq), last.hash])
                }
                for change in changes { try Self.apply(change, on: connection) }
                return records
            }
        }
    }

    /// Stores canonical lines of another store's chain as they are (`state copy`), and moves the head to the last.
    func insertChain(_ lines: [String], on connection: PostgresConnection) throws {
        let decoder = JSONDecoder()
        var head: AuditRecord?
        for line in lines {
            let record = try decoder.decode(AuditRecord.self, from: Data(line.utf8))
            try connection.execute(
                """
                INSERT INTO audit_records (seq, line, hash, type, pipeline, stage, candidate, recorded_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz)
                """,
                [
                    String(record.seq), line, record.hash, record.type, record.pipeline, record.stage, record.candidate,
                    record.time,
                ])
            head = record
        }
        if let head {
            try connection.execute("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", [String(head.seq), head.hash])
        }
    }

    /// The chain in the audit log file's format: one canonical line a record, each ending in a newline, so that the
    /// file's verifiers (`audit verify`, `scripts/verify-audit.py`, the `jq` recipe) check an export unchanged.
    public func exportChain(matching filter: AuditFilter = AuditFilter()) throws -> Data {
        let lines = try locked(Self.lines(on:))
        guard !filter.isEmpty else { return Self.jsonl(lines) }
        let decoder = JSONDecoder()
        return Self.jsonl(
            lines.filter { line in
                (try? decoder.decode(AuditRecord.self, from: Data(line.utf8))).map(filter.matches) ?? false
            })
    }

    private static func lines(on connection: PostgresConnection) throws -> [String] {
        try connection.execute("SELECT line FROM audit_records ORDER BY seq").rows.compactMap { $0[0] }
    }

    /// Lines as the file holds them: each followed by a newline.
    private static func jsonl(_ lines: [String]) -> Data {
        var data = Data()
        for line in lines {
            data.append(contentsOf: Array(line.utf8))
            data.append(0x0A)
        }
        return data
    }

    /// The chain's head row as an anchor (nil before the first record); `forUpdate` holds its lock for an append.
    static func head(on connection: PostgresConnection, forUpdate: Bool = false) throws -> AuditAnchor? {
        let lock = forUpdate ? " FOR UPDATE" : ""
        let row = try connection.execute("SELECT seq, hash FROM audit_head WHERE id = 1\(lock)").rows.first
        guard let seq = row?[0].flatMap({ Int64($0) }), seq > 0, let hash = row?[1] else { return nil }
        return AuditAnchor(seq: seq, hash: hash)
    }

    /// The chain's records, filtered, in order.
    public func chainRecords(matching filter: AuditFilter = AuditFilter()) throws -> [AuditRecord] {
        let decoder = JSONDecoder()
        return try exportChain(matching: filter).split(separator: 0x0A).map {
            try decoder.decode(AuditRecord.self, from: Data($0))
        }
    }

    /// Verifies every record of the chain and that its last one is the head the table holds, both read as of one
    /// moment (other agents append meanwhile: read apart, the head could be newer than the records).
    public func verifyChain() throws -> AuditVerification {
        let (lines, head) = try locked { connection in
            try connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { _ = try? connection.execute("COMMIT") }
            return (try Self.lines(on: connection), try Self.head(on: connection))
        }
        return AuditVerifier.verify(Self.jsonl(lines), anchor: head)
    }
}

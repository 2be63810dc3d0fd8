import Foundation
import GRDB
import SpecModel

/// Copies the whole state — every table and the audit chain, byte for byte — between the SQLite store (state.sqlite
/// and audit.jsonl in the state directory) and the PostgreSQL store the agent config names, into an empty
/// destination; then verifies the copy's chain and that it ends at the source's head. Run with the agent stopped.
public enum StateCopy {
    /// What was copied.
    public struct Summary: Sendable {
        public var records = 0
        public var rows = 0
        public var head: AuditAnchor?
    }

    /// Tables in an order that respects their references; the timestamp columns travel as text.
    static let tables: [(name: String, timestamps: [String])] = [
        ("stages", ["updated_at"]), ("promotions", ["started_at", "ended_at"]), ("step_runs", []),
        ("valid_specs", []), ("plan_pipelines", []), ("audited_once", []), ("source_state", ["last_fetch"]),
        ("markers", []), ("retries", ["requested_at"]),
    ]

    /// Copies the state `source` names into the empty one `destination` names: one is SQLite (its `state.path`),
    /// the other PostgreSQL (its `state.postgres.urlEnv`).
    public static func copy(from source: AgentConfig, to destination: AgentConfig) throws -> Summary {
        switch (try StateStores.postgresURL(source), try StateStores.postgresURL(destination)) {
        case (nil, let url?):
            return try sqliteToPostgres(directory: source.stateDirectory, try PostgresStateStore(url: url, soleAgent: true))
        case (let url?, nil):
            return try postgresToSQLite(
                try PostgresStateStore(url: url, migrate: false, soleAgent: true), directory: destination.stateDirectory)
        default:
            throw StateCopyError.sameKind
        }
    }

    private static func sqliteToPostgres(directory: String, _ postgres: PostgresStateStore) throws -> Summary {
        let log = "\(directory)/\(AuditLog.fileName)"
        let sqlite = try SQLiteStateStore(directory: directory, readOnly: true)
        let anchor = try sqlite.auditAnchor()
        let verification = try AuditVerifier.verify(fileAt: log, anchor: anchor)
        if let problem = verification.problem { throw StateCopyError.sourceBroken("\(problem)") }
        guard try postgres.auditAnchor() == nil else { throw StateCopyError.destinationNotEmpty("the PostgreSQL database") }
        let lines = (FileManager.default.contents(atPath: log) ?? Data()).split(separator: 0x0A).map {
            String(decoding: $0, as: UTF8.self)
        }
        var summary = Summary(records: lines.count, head: verification.head)
        try postgres.locked { connection in
            try connection.transaction {
                summary.rows = try copyTables(from: sqlite, to: connection)
                try postgres.insertChain(lines, on: connection)
            }
        }
        try check(try postgres.verifyChain(), against: verification.head, in: "PostgreSQL")
        return summary
    }

    private static func postgresToSQLite(_ postgres: PostgresStateStore, directory: String) throws -> Summary {
        let log = "\(directory)/\(AuditLog.fileName)"
        for file in [log, "\(directory)/\(SQLiteStateStore.fileName)"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            if size > 0 { throw StateCopyError.destinationNotEmpty(file) }
        }
        let verification = try postgres.verifyChain()
        if let problem = verification.problem { throw StateCopyError.sourceBroken("\(problem)") }
        let export = try postgres.exportChain()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let descriptor = try AuditLog.openForAppend(log)
        let written = export.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == export.count, fsync(descriptor) == 0 else {
            close(descriptor)
            throw StateCopyError.writeFailed(log, String(cString: strerror(errno)))
        }
        close(descriptor)
        let sqlite = try SQLiteStateStore(directory: directory, besideExistingLog: true)
        var summary = Summary(records: export.split(separator: 0x0A).count, head: verification.head)
        summary.rows = try postgres.locked { connection in try copyTables(from: connection, to: sqlite) }
        if let head = verification.head {
            try sqlite.setAuditAnchor(AuditAnchor(seq: head.seq, hash: head.hash, end: Int64(export.count)))
        }
        try check(try AuditVerifier.verify(fileAt: log, anchor: sqlite.auditAnchor()), against: verification.head, in: log)
        return summary
    }

    private static func check(_ verification: AuditVerification, against head: AuditAnchor?, in place: String) throws {
        guard verification.problem == nil, verification.head == head else {
            throw StateCopyError.copyDiffers(place, "\(verification.problem.map { "\($0)" } ?? "head differs")")
        }
    }

    private static func copyTables(from sqlite: SQLiteStateStore, to connection: PostgresConnection) throws -> Int {
        var count = 0
        for table in tables {
            let rows = try sqlite.database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM \(table.name)") }
            for row in rows {
                let columns = Array(row.columnNames)
                let values = columns.map { column -> String? in
                    let value: DatabaseValue = row[column]
                    return value.isNull ? nil : String.fromDatabaseValue(value) ?? value.description
                }
                let placeholders = columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
                try connection.execute(
                    "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))", values)
                count += 1
            }
        }
        for (table, column) in [("promotions", "id"), ("step_runs", "id")] {
            try connection.execute(
                "SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), (SELECT COALESCE(max(\(column)), 0) + 1 FROM \(table)), false)"
            )
        }
        return count
    }

    private static func copyTables(from connection: PostgresConnection, to sqlite: SQLiteStateStore) throws -> Int {
        var count = 0
        try sqlite.database.write { db in
            for table in tables {
                // Which agent claimed a promotion means nothing to one agent on SQLite (the chain keeps it).
                let columns = try connection.execute("SELECT * FROM \(table.name) LIMIT 0").columns.filter {
                    $0 != "agent" && $0 != "claim"
                }
                let select = columns.map { column in
                    table.timestamps.contains(column)
                        ? "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') AS \(column)" : column
                }
                let rows = try connection.execute("SELECT \(select.joined(separator: ", ")) FROM \(table.name)")
                let placeholders = Array(repeating: "?", count: columns.count).joined(separator: ", ")
                for row in rows.rows {
                    try db.execute(
                        sql: "INSERT INTO \(table.name) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))",
                        arguments: StatementArguments(row.map { $0 as (any DatabaseValueConvertible)? }))
                    count += 1
                }
            }
        }
        return count
    }
}

/// Why a copy was refused or failed.
public enum StateCopyError: Error, CustomStringConvertible {
    case sameKind
    case writeFailed(String, String)
    case destinationNotEmpty(String)
    case sourceBroken(String)
    case copyDiffers(String, String)

    public var description: String {
        switch self {
        case .sameKind:
            return "state copy moves state between SQLite and PostgreSQL: exactly one of the two configs must have "
                + "state.postgres (copy a state directory with the agent stopped, or a database with pg_dump)"
        case .destinationNotEmpty(let place): return "\(place) already holds state; a copy goes only into an empty store"
        case .writeFailed(let path, let reason): return "cannot write \(path): \(reason); remove it before trying again"
        case .sourceBroken(let problem): return "the source's audit chain does not verify (\(problem)); nothing was copied"
        case .copyDiffers(let place, let problem): return "the copy in \(place) does not verify: \(problem)"
        }
    }
}

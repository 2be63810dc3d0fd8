import CLibPQ
import Foundation

/// Why a statement failed, classified by what the caller should do next.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What happens next.
    public enum Kind: Sendable {
        /// The server or the network went away, or a serialization conflict: try again after a pause.
        case retry
        /// The statement or the data is wrong: retrying changes nothing.
        case fatal
    }

    public let kind: Kind
    /// The five-character SQLSTATE, when the server sent one.
    public let sqlState: String?
    public let message: String

    public var description: String { message }

    static func classify(sqlState: String?, message: String) -> PostgresError {
        // 08: connection exceptions; 57P: operator intervention (a restart); 40001/40P01: serialization and deadlock.
        let retryable = sqlState.map { $0.hasPrefix("08") || $0.hasPrefix("57P") || $0 == "40001" || $0 == "40P01" } ?? true
        return PostgresError(kind: retryable ? .retry : .fatal, sqlState: sqlState, message: message)
    }
}

/// The rows of a query, as text (libpq's text format): NULL is nil.
public struct PostgresRows: Sendable {
    public let columns: [String]
    public let rows: [[String?]]
    /// Rows an INSERT, UPDATE or DELETE touched.
    public let affected: Int

    /// The value of `column` in row `index`.
    public func value(_ column: String, row index: Int) -> String? {
        guard let position = columns.firstIndex(of: column), rows.indices.contains(index) else { return nil }
        return rows[index][position]
    }
}

/// One connection to PostgreSQL through libpq, used from one thread at a time (the store serialises its callers).
/// Statements take text parameters (`$1`, `$2`…), so values never become SQL.
public final class PostgresConnection: @unchecked Sendable {
    private let url: String
    private var connection: OpaquePointer?
    /// Run after every (re)connection: session settings and locks do not survive a lost connection.
    private let setUp: (PostgresConnection) throws -> Void

    /// Connects to `url` (a libpq connection URI or key=value string); `setUp` runs on each new connection.
    public init(url: String, setUp: @escaping (PostgresConnection) throws -> Void = { _ in }) throws {
        self.url = url
        self.setUp = setUp
        try connect()
    }

    deinit { PQfinish(connection) }

    private func connect() throws {
        PQfinish(connection)
        connection = PQconnectdb(url)
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = lastError()
            PQfinish(connection)
            connection = nil
            throw PostgresError(kind: .retry, sqlState: nil, message: "cannot connect to PostgreSQL: \(message)")
        }
        _ = try? execute("SET application_name = 'pipeline-agent'")
        _ = try? execute("SET client_min_messages = warning")
        do {
            try setUp(self)
        } catch {
            PQfinish(connection)
            connection = nil
            throw error
        }
    }

    private func lastError() -> String {
        guard let connection, let text = PQerrorMessage(connection) else { return "no connection" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs one statement with text parameters; reconnects first when the connection was lost.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> PostgresRows {
        if connection == nil || PQstatus(connection) != CONNECTION_OK { try connect() }
        let result = withParameters(parameters) { values in
            PQexecParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            return rows(of: result)
        default:
            throw failure(of: result)
        }
    }

    /// Runs several statements without parameters (a migration), through the simple query protocol.
    public func executeScript(_ sql: String) throws {
        if connection == nil || PQstatus(connection) != CONNECTION_OK { try connect() }
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK || PQresultStatus(result) == PGRES_TUPLES_OK else {
            throw failure(of: result)
        }
    }

    private func failure(of result: OpaquePointer?) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let detail = result.flatMap { PQresultErrorMessage($0) }.map { String(cString: $0) } ?? lastError()
        return PostgresError.classify(sqlState: state, message: detail.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    private func rows(of result: OpaquePointer?) -> PostgresRows {
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let rows = (0..<Int(PQntuples(result))).map { row in
            (0..<columnCount).map { column -> String? in
                PQgetisnull(result, Int32(row), Int32(column)) == 1
                    ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, rows: rows, affected: affected)
    }

    private func withParameters<T>(_ parameters: [String?], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        let copies = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        return body(copies.map { UnsafePointer($0) })
    }
}

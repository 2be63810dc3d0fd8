import Foundation
import TestSupport
import Testing

@testable import Reconciler

/// libpq through `PostgresConnection`, against a real server started for the test.
@Suite("PostgreSQL connection (libpq)")
struct PostgresConnectionTests {
    @Test("parameters are values, never SQL; NULLs, transactions, and errors classified by what to do next")
    func roundTrip() throws {
        guard let cluster = try PostgresCluster.forTest("PostgreSQL connection") else { return }
        let connection = try PostgresConnection(url: cluster.url)
        try connection.execute("CREATE TABLE t (id bigint PRIMARY KEY, name text)")
        let hostile = "x'); DROP TABLE t; --"
        try connection.execute("INSERT INTO t VALUES ($1, $2), ($3, $4)", ["1", hostile, "2", nil])
        let rows = try connection.execute("SELECT id, name FROM t ORDER BY id")
        #expect(rows.rows == [["1", hostile], ["2", nil]])
        #expect(rows.value("name", row: 0) == hostile)

        #expect(throws: PostgresError.self) {
            try connection.transaction {
                try connection.execute("INSERT INTO t VALUES (3, 'kept?')")
                try connection.execute("INSERT INTO t VALUES (1, 'duplicate')")
            }
        }
        #expect(try connection.execute("SELECT count(*) AS n FROM t").value("n", row: 0) == "2", "rolled back")
        do {
            try connection.execute("INSERT INTO t VALUES (1, 'duplicate')")
        } catch let error as PostgresError {
            #expect(error.kind == .fatal && error.sqlState == "23505", "\(error)")
        }

        // The server restarts under the connection: the next statement fails as retryable, a later one reconnects.
        try cluster.stop(immediately: true)
        do {
            try connection.execute("SELECT 1")
            Issue.record("a statement succeeded with the server down")
        } catch let error as PostgresError {
            #expect(error.kind == .retry, "\(error)")
        }
        try cluster.start()
        #expect(try connection.execute("SELECT count(*) AS n FROM t").value("n", row: 0) == "2")
    }
}

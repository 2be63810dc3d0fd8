import Foundation
import GRDB
import GitSource

/// One first-parent commit of the watched branch with what it changed, as the commit index keeps it.
struct IndexedCommit: Sendable, Hashable {
    let candidate: Candidate
    let paths: [String]
}

/// Data the agent can always recompute from its mirror — the commit index — in `<state>/cache.sqlite`.
/// Deleting the file costs a rebuild, never a decision: it holds no fact, so it is not the state
/// store and the one-writer rule for facts (decision 0011) does not cover it.
final class CacheStore: @unchecked Sendable {
    static let fileName = "cache.sqlite"
    private let database: DatabaseQueue

    /// Opens (creating as needed) the cache in `directory`; read-only opens only an existing one, nil otherwise.
    init?(directory: String, readOnly: Bool) throws {
        let path = "\(directory)/\(Self.fileName)"
        if readOnly, !FileManager.default.fileExists(atPath: path) { return nil }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.readonly = readOnly
        database = try DatabaseQueue(path: path, configuration: configuration)
        if readOnly {
            guard try database.read(Self.migrator.hasCompletedMigrations) else { return nil }
        } else {
            // A cache: a write lost to a power cut is recomputed, so it never waits for the disk.
            try database.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = OFF")
            }
            try Self.migrator.migrate(database)
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 commit index") { db in
            try db.create(table: "commit_index") { table in
                table.column("branch", .text).notNull()
                table.column("position", .integer).notNull()
                table.column("id", .text).notNull()
                table.column("time", .double).notNull()
                table.column("author_email", .text).notNull()
                table.column("summary", .text).notNull()
                table.column("paths", .text).notNull()
                table.primaryKey(["branch", "position"])
            }
        }
        return migrator
    }

    /// The indexed history of `branch`, oldest first.
    func commits(branch: String) throws -> [IndexedCommit] {
        try database.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, time, author_email, summary, paths FROM commit_index WHERE branch = ? ORDER BY position",
                arguments: [branch])
            var found: [IndexedCommit] = []
            while let row = try rows.next() {
                let paths = try JSONDecoder().decode([String].self, from: Data((row["paths"] as String).utf8))
                found.append(
                    IndexedCommit(
                        candidate: Candidate(
                            id: row["id"], time: Date(timeIntervalSince1970: row["time"]), authorEmail: row["author_email"],
                            summary: row["summary"]), paths: paths))
            }
            return found
        }
    }

    /// Keeps the oldest `kept` commits of `branch` and appends `added` (oldest first), in one transaction.
    func replaceCommits(branch: String, keeping kept: Int, appending added: [IndexedCommit]) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM commit_index WHERE branch = ? AND position >= ?", arguments: [branch, kept])
            let insert = try db.makeStatement(
                sql: "INSERT INTO commit_index (branch, position, id, time, author_email, summary, paths) VALUES (?,?,?,?,?,?,?)")
            for (offset, commit) in added.enumerated() {
                let paths = String(decoding: try JSONEncoder().encode(commit.paths), as: UTF8.self)
                try insert.execute(arguments: [
                    branch, kept + offset, commit.candidate.id, commit.candidate.time.timeIntervalSince1970,
                    commit.candidate.authorEmail, commit.candidate.summary, paths,
                ])
            }
        }
    }
}

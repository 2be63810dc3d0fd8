import Foundation
import GRDB
import GitSource
import Logging

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
        migrator.registerMigration("v2 spec files") { db in
            try db.create(table: "spec_files") { table in
                table.column("blob", .text).notNull()
                table.column("path", .text).notNull()
                table.column("build", .text).notNull()
                table.column("json", .blob).notNull()
                table.primaryKey(["blob", "path", "build"])
            }
        }
        return migrator
    }

    /// A spec file parsed earlier by this build of the agent, as JSON, or nil.
    func specFile(blob: String, path: String, build: String) throws -> Data? {
        try database.read { db in
            try Data.fetchOne(
                db, sql: "SELECT json FROM spec_files WHERE blob = ? AND path = ? AND build = ?", arguments: [blob, path, build])
        }
    }

    /// Remembers a parsed spec file; entries of other builds are dropped (a new build may parse differently).
    func saveSpecFile(blob: String, path: String, build: String, json: Data) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM spec_files WHERE build <> ?", arguments: [build])
            try db.execute(
                sql: "INSERT OR REPLACE INTO spec_files (blob, path, build, json) VALUES (?, ?, ?, ?)",
                arguments: [blob, path, build, json])
        }
    }

    /// The indexed history of `branch`, oldest first.
    func commits(branch: String) throws -> [IndexedCommit] {
        try database.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, time, author_email, summary, paths FROM commit_index WHERE branch = ? ORDER BY position",
                arguments: [branch])
            var found: [IndexedCommit] = []
            let decoder = JSONDecoder()
            while let row = try rows.next() {
                let paths = try decoder.decode([String].self, from: Data((row["paths"] as String).utf8))
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

/// The cache, opened at first use, shared by the commit index and the spec reader. It is recreated when it
/// cannot be opened and dropped (this process then works from memory) when it cannot be written.
final class CacheAccess {
    private let directory: String?
    private let logger: Logger
    private var opened = false
    private var store: CacheStore?
    /// False for `plan`: the cache is read, never written.
    var persists = true

    /// `directory` holds `cache.sqlite` (nil: no cache, as in tests of pure logic).
    init(directory: String?, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// The cache for reading, or nil.
    var reader: CacheStore? {
        if !opened { open() }
        return store
    }

    /// Runs `write` against the cache unless this process only reads; a failure drops the cache.
    func write(_ what: String, _ write: (CacheStore) throws -> Void) {
        guard persists, let store = reader else { return }
        do {
            try write(store)
        } catch {
            // A cache is never worth stopping for: this process keeps working from memory.
            logger.warning("cannot keep \(what) in the cache; using memory", metadata: ["error": "\(error)"])
            self.store = nil
        }
    }

    /// The identity of this build of the agent (its executable's inode, size and time): what parsed a spec.
    static let build: String = {
        var info = stat()
        guard stat("/proc/self/exe", &info) == 0 else { return "unknown-\(ProcessInfo.processInfo.processIdentifier)" }
        return "\(info.st_ino)-\(info.st_size)-\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }()

    private func open() {
        opened = true
        guard let directory else { return }
        do {
            store = try CacheStore(directory: directory, readOnly: !persists)
        } catch {
            guard persists else { return }
            logger.warning("the cache cannot be opened; recreating it", metadata: ["error": "\(error)"])
            try? FileManager.default.removeItem(atPath: "\(directory)/\(CacheStore.fileName)")
            store = try? CacheStore(directory: directory, readOnly: false)
        }
    }
}

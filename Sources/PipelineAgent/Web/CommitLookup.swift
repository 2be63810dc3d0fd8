import Foundation
import GitSource
import SpecModel

/// A commit as the page shows it; every string is as the repository holds it (the templates escape).
struct CommitSummary: Sendable, Hashable {
    let id: String
    let subject: String
    let authorName: String
    let authorEmail: String
    let time: Date

    var short: String { String(id.prefix(12)) }
}

/// The commits between two candidates, newest first.
struct CommitRange: Sendable {
    let commits: [CommitSummary]
    /// Commits in the range that were not listed (the page shows at most a limit).
    let more: Int
    /// Why the range could not be listed as a descent (e.g. a rollback to an older commit).
    let note: String?
}

/// Reads commit subjects and authors from the agent's mirror for the page. Commits never change, so
/// each is read once; the mirror is opened again when a commit is not found (fetched since).
final class CommitLookup: @unchecked Sendable {
    private let mirrorPath: String
    private let lock = NSLock()
    private var repository: GitRepository?
    private var cache: [String: CommitSummary] = [:]
    private static let cacheLimit = 20_000

    init(mirrorPath: String) {
        self.mirrorPath = mirrorPath
    }

    /// The commit `id`, or nil when the mirror does not hold it.
    func summary(_ id: String) -> CommitSummary? {
        lock.withLock {
            if let known = cache[id] { return known }
            guard let object = ObjectID(hex: id), let info = read({ try $0.commit(object) }) else { return nil }
            let summary = CommitSummary(
                id: id, subject: info.summary, authorName: info.author.name, authorEmail: info.author.email,
                time: info.author.time)
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[id] = summary
            return summary
        }
    }

    /// The commits after `previous` up to `candidate` along first parents, at most `limit`.
    func range(from previous: String?, to candidate: String, limit: Int = 50) -> CommitRange {
        guard let tip = ObjectID(hex: candidate) else { return CommitRange(commits: [], more: 0, note: "not a commit id") }
        let stop = previous.flatMap(ObjectID.init(hex:))
        let listed: [ObjectID]? = lock.withLock {
            read { repository in
                if let stop, stop != tip, try !repository.isAncestor(stop, of: tip) { return [] }
                return try repository.firstParentHistory(from: tip, stopBefore: stop, limit: limit + 1)
            }
        }
        guard let listed else {
            return CommitRange(commits: [], more: 0, note: "the mirror does not hold \(candidate.prefix(12))")
        }
        if listed.isEmpty, let previous, previous != candidate {
            return CommitRange(
                commits: [], more: 0,
                note: "\(candidate.prefix(12)) does not descend from \(previous.prefix(12)) (an older commit, or another line)")
        }
        let commits = listed.prefix(limit).compactMap { summary($0.hex) }
        return CommitRange(commits: commits, more: max(0, listed.count - limit), note: nil)
    }

    /// The text of `path` at `commit` (at most 64 KiB), or nil.
    func file(_ path: String, at commit: String) -> String? {
        guard let object = ObjectID(hex: commit) else { return nil }
        let data: Data?? = lock.withLock { read { try $0.blob(at: path, in: object, maxBytes: 1 << 16) } }
        return (data ?? nil).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Runs `body` on the mirror, reopening it once when the object is missing (a fetch since it was opened).
    private func read<T>(_ body: (GitRepository) throws -> T) -> T? {
        for attempt in 0..<2 {
            do {
                if repository == nil || attempt == 1 { repository = try GitRepository.open(at: mirrorPath) }
                guard let repository else { return nil }
                return try body(repository)
            } catch {
                continue
            }
        }
        return nil
    }
}

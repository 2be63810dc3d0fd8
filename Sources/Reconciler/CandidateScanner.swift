import Foundation
import GitSource
import Logging
import SpecModel

/// Finds candidates: first-parent commits of the watched branch that touch a pipeline's source paths,
/// at any depth. Each commit is diffed once, ever: the index of commits and changed paths is built at the
/// first pass, extended by each fetch and kept in the cache store across restarts; each pipeline's matches
/// are extended by the new commits only.
public final class CandidateScanner {
    /// The watched branch's first-parent history, oldest first.
    private var commits: [IndexedCommit] = []
    private var positions: [ObjectID: Int] = [:]
    private var tip: ObjectID?
    private var loaded = false
    /// Bumped when history was rewritten (entries dropped): every pipeline's matches are recomputed.
    private var generation = 0
    /// Changes when the branch history was rewritten (a force-push), not when it grew.
    var historyGeneration: Int { generation }
    /// Per set of path globs (as written): positions of the matching commits, and how many commits were looked at.
    private var matches: [[String]: Matches] = [:]
    /// The index by changed path and directory.
    private var touched = PathPositions()

    /// Positions of one set of globs' matching commits, as of `scanned` commits of index `generation`.
    private struct Matches {
        var generation: Int
        var scanned = 0
        var positions: [Int] = []
        /// The candidates of `positions`, newest first: the same array (storage included) until a commit
        /// matches, so comparing a pipeline's inputs with the last pass's costs nothing.
        var candidates: [Candidate] = []
        var globs: [PathGlob]?
    }
    private let cache: CacheAccess
    private let branch: String
    private let logger: Logger

    /// `cache` keeps the index across restarts.
    init(branch: String, cache: CacheAccess, logger: Logger) {
        self.branch = branch
        self.cache = cache
        self.logger = logger
    }

    /// Candidates of `source` at `head`, newest first.
    public func candidates(_ source: SourceSpec, head: ObjectID, in repository: GitRepository) throws -> [Candidate] {
        try update(head: head, in: repository)
        let patterns = source.paths ?? []
        guard !patterns.isEmpty else { return commits.reversed().map(\.candidate) }
        var known = matches[patterns].flatMap { $0.generation == generation ? $0 : nil } ?? Matches(generation: generation)
        guard known.scanned < commits.count else { return known.candidates }
        let globs = known.globs ?? source.pathGlobs
        let found = positions(matching: globs, from: known.scanned)
        known.positions += found
        known.scanned = commits.count
        known.globs = globs
        if !found.isEmpty || known.candidates.isEmpty {
            known.candidates = known.positions.reversed().map { commits[$0].candidate }
        }
        matches[patterns] = known
        return known.candidates
    }

    /// Positions from `start` on whose commits changed a path some glob matches, ascending. Globs with a
    /// literal prefix look their commits up in `touched`; one starting with a wildcard looks at every commit.
    private func positions(matching globs: [PathGlob], from start: Int) -> [Int] {
        guard globs.allSatisfy({ !$0.literalPrefix.isEmpty }) else {
            return (start..<commits.count).filter { position in
                commits[position].paths.contains { PathGlob.anyMatches(globs, $0) }
            }
        }
        var found = Set<Int>()
        for glob in globs {
            for position in touched.touching(glob.literalPrefix, from: start)
            where !found.contains(position) && commits[position].paths.contains(where: glob.matches) {
                found.insert(position)
            }
        }
        return found.sorted()
    }

    /// Every first-parent commit from `head`, newest first (as candidates of a pipeline without paths).
    public func history(head: ObjectID, in repository: GitRepository) throws -> [Candidate] {
        try update(head: head, in: repository)
        return commits.reversed().map(\.candidate)
    }

    /// The newest first-parent commit from `head` that changed `path`.
    public func lastCommit(touching path: String, from head: ObjectID, in repository: GitRepository) throws -> ObjectID? {
        try update(head: head, in: repository)
        return commits.last { $0.paths.contains(path) }.flatMap { ObjectID(hex: $0.candidate.id) }
    }

    /// Brings the index to `head`: walks first parents back to the newest indexed commit (on a rewritten
    /// history, to where it forked) and diffs only the commits before it.
    func update(head: ObjectID, in repository: GitRepository) throws {
        if !loaded { try load() }
        guard head != tip else { return }
        var fresh: [CommitInfo] = []
        var current: ObjectID? = head
        var fork: Int?
        while let id = current {
            if let position = positions[id] {
                fork = position
                break
            }
            let info = try repository.commit(id)
            fresh.append(info)
            current = info.parents.first
        }
        let kept = fork.map { $0 + 1 } ?? 0
        if kept < commits.count {
            for dropped in commits[kept...] { ObjectID(hex: dropped.candidate.id).map { positions[$0] = nil } }
            commits.removeSubrange(kept...)
            generation += 1
            touched.removeAll()
            for (position, commit) in commits.enumerated() { touched.add(commit.paths, at: position) }
        }
        let added = try fresh.reversed().map { info in
            IndexedCommit(
                candidate: Candidate(
                    id: info.id.hex, time: info.committer.time, authorEmail: info.author.email, summary: info.summary),
                // Path sets only: a rename's two names come as a deletion and an addition, no file is read.
                paths: try repository.changedFiles(from: info.parents.first, to: info.id))
        }
        for commit in added {
            ObjectID(hex: commit.candidate.id).map { positions[$0] = commits.count }
            touched.add(commit.paths, at: commits.count)
            commits.append(commit)
        }
        tip = head
        cache.write("the commit index") { try $0.replaceCommits(branch: branch, keeping: kept, appending: added) }
    }

    private func load() throws {
        loaded = true
        do {
            commits = try cache.reader?.commits(branch: branch) ?? []
        } catch {
            logger.warning("cannot read the commit index from the cache; rebuilding it", metadata: ["error": "\(error)"])
            commits = []
            cache.write("the commit index") { try $0.replaceCommits(branch: branch, keeping: 0, appending: []) }
        }
        for (position, commit) in commits.enumerated() {
            ObjectID(hex: commit.candidate.id).map { positions[$0] = position }
            touched.add(commit.paths, at: position)
        }
        tip = commits.last.flatMap { ObjectID(hex: $0.candidate.id) }
    }
}

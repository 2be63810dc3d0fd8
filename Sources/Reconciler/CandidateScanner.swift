import Foundation
import GitSource
import SpecModel

/// Finds candidates: first-parent commits of a branch that touch a pipeline's source paths.
/// Changed paths are cached per commit, so a pass over an unchanged branch walks nothing new.
public final class CandidateScanner {
    /// How far back the first-parent walk goes.
    public let depth: Int
    private var changedPaths: [ObjectID: [String]] = [:]
    private var commits: [ObjectID: CommitInfo] = [:]

    public init(depth: Int = 500) {
        self.depth = depth
    }

    /// Candidates of `source` at `head`, newest first.
    public func candidates(_ source: SourceSpec, head: ObjectID, in repository: GitRepository) throws -> [Candidate] {
        let globs = source.pathGlobs
        var found: [Candidate] = []
        for id in try repository.firstParentHistory(from: head, limit: depth) {
            let paths = try changed(id, in: repository)
            guard globs.isEmpty || paths.contains(where: { PathGlob.anyMatches(globs, $0) }) else { continue }
            let info = try commit(id, in: repository)
            found.append(Candidate(id: id.hex, time: info.committer.time, authorEmail: info.author.email, summary: info.summary))
        }
        return found
    }

    /// Every first-parent commit from `head`, newest first (as candidates of a pipeline without paths).
    public func history(head: ObjectID, in repository: GitRepository) throws -> [Candidate] {
        try repository.firstParentHistory(from: head, limit: depth).map { id in
            let info = try commit(id, in: repository)
            return Candidate(id: id.hex, time: info.committer.time, authorEmail: info.author.email, summary: info.summary)
        }
    }

    /// Commit metadata, cached.
    public func commit(_ id: ObjectID, in repository: GitRepository) throws -> CommitInfo {
        if let cached = commits[id] { return cached }
        let info = try repository.commit(id)
        commits[id] = info
        return info
    }

    /// The newest first-parent commit from `head` that changed `path`.
    public func lastCommit(touching path: String, from head: ObjectID, in repository: GitRepository) throws -> ObjectID? {
        for id in try repository.firstParentHistory(from: head, limit: depth) where try changed(id, in: repository).contains(path)
        {
            return id
        }
        return nil
    }

    private func changed(_ id: ObjectID, in repository: GitRepository) throws -> [String] {
        if let cached = changedPaths[id] { return cached }
        let paths = try repository.changedPaths(in: id).flatMap(\.allPaths)
        changedPaths[id] = paths
        return paths
    }
}

import Foundation
import GitSource
import SpecModel

/// What `approve` and `validate --config` check about an approval before it reaches the agent: that it
/// names a candidate the agent would consider, and that the named approver's key made the signature.
public enum ApprovalCandidacy {
    /// Refuses a commit that is not a candidate of `pipeline`: a first-parent commit of its branch (as the
    /// working copy has it) that changes a path under its `source.paths`. The agent would never promote it.
    public static func check(_ id: ObjectID, of pipeline: Pipeline, in repository: GitRepository) throws {
        let branch = pipeline.spec.source.branch
        let tip: ObjectID
        do {
            tip = try repository.resolveBranch(branch)
        } catch {
            throw ApprovalAuthoringError(
                description: "the working copy has no branch '\(branch)' (source.branch of \(pipeline.name)); fetch it first")
        }
        guard try repository.firstParentHistory(from: tip).contains(id) else {
            throw ApprovalAuthoringError(
                description: "\(id.short) is not on the first-parent history of \(branch) in this working copy, so it is "
                    + "not a candidate of \(pipeline.name) (merge it, or pull \(branch) first)")
        }
        let globs = pipeline.spec.source.pathGlobs
        guard !globs.isEmpty else { return }
        let parent = try repository.commit(id).parents.first
        let changed = try repository.changedFiles(from: parent, to: id)
        guard changed.contains(where: { PathGlob.anyMatches(globs, $0) }) else {
            let paths = (pipeline.spec.source.paths ?? []).joined(separator: ", ")
            throw ApprovalAuthoringError(
                description: "\(id.short) changes nothing under \(pipeline.name)'s source.paths (\(paths)), so it is not "
                    + "a candidate: approve the newest commit that does (`pipeline-agent plan` names it)")
        }
    }

    /// Checks `file`'s signature as the agent will: `ssh-keygen -Y verify` for `principal` against
    /// `allowedSigners`; removes the file and its signature when it fails, so nothing wrong is committed.
    public static func verifySignature(file: String, principal: String, allowedSigners: String) throws {
        let verifier = SignatureVerifier(
            allowedSigners: allowedSigners, workDirectory: NSTemporaryDirectory(), runner: SystemCommandRunner())
        let check = verifier.verify(
            file: FileManager.default.contents(atPath: file) ?? Data(),
            signature: FileManager.default.contents(atPath: file + ".sig") ?? Data(), principal: principal)
        guard !check.valid else { return }
        try? FileManager.default.removeItem(atPath: file)
        try? FileManager.default.removeItem(atPath: file + ".sig")
        throw ApprovalAuthoringError(
            description: "the signature would not count: \(check.problem ?? "it does not verify") (checked against "
                + "\(allowedSigners); nothing was written)")
    }
}

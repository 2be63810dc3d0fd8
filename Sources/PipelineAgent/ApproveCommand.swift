import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent approve`: write and sign an approval file in a working copy of the watched repository.
struct ApproveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Write a signed approval for a candidate of a stage (and optionally commit it).",
        discussion: """
            Writes approvals/<pipeline>/<stage>/<candidate12>-<approver>.yaml and signs it with \
            `ssh-keygen -Y sign -n pipeline-agent`, producing <file>.sig. Push it (or open a PR) to the \
            watched branch; the agent checks the signature against its own allowed_signers. \
            Refused (exit 1, nothing written): an unknown pipeline or stage, an invalid spec, a commit that is \
            not a candidate of the pipeline (not on the first-parent history of its branch in --repo, or \
            changing nothing under its source.paths), and with --allowed-signers a signature that would not \
            verify for --approver. See docs/approvals.md for doing the same with plain ssh-keygen.
            """
    )

    @Option(help: "Working copy of the watched repository.") var repo: String = "."
    @Option(help: "Pipeline name.") var pipeline: String
    @Option(help: "Stage name.") var stage: String
    @Option(help: "The candidate's full 40-character commit id.") var candidate: String
    @Option(help: "Your principal: the e-mail that names your key in the agent's allowed_signers.") var approver: String
    @Option(help: "Your SSH private key.") var key: String
    @Option(help: "Why you approve.") var comment: String?
    @Option(help: "When the approval stops counting (RFC 3339, e.g. 2026-12-01T00:00:00Z).") var expires: String?
    @Flag(help: "Commit the file and its signature.") var commit = false
    @Option(help: "The agent's allowed_signers file: refuse (and write nothing) unless the signature verifies for --approver.")
    var allowedSigners: String?

    func run() throws {
        var expiry: Date?
        if let expires {
            guard let parsed = AuditTime.parse(expires) else {
                throw ValidationError("--expires '\(expires)' is not an RFC 3339 time")
            }
            expiry = parsed
        }
        var request = ApprovalRequest(
            repository: repo, pipeline: pipeline, stage: stage, candidate: candidate, approver: approver, key: key,
            comment: comment, expires: expiry, commit: commit)
        request.allowedSigners = allowedSigners
        do {
            let path = try ApprovalAuthoring.write(request)
            print("wrote \(path) and \(path).sig\(commit ? ", committed" : "")")
        } catch let error as ApprovalAuthoringError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

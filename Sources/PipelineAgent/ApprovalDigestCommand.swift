import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent approval-digest`: the `stageDigest` an approval of a stage must carry.
struct ApprovalDigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approval-digest",
        abstract: "Print the stageDigest an approval for a stage must carry (for signing with plain ssh-keygen).",
        discussion: """
            An approval counts only while the stage's bound fields (steps, verify, rollback, vars, approvals, \
            windows, timeout) are the ones it names by digest. Put the printed line into the approval file \
            as `stageDigest: sha256:…` before signing. --canonical prints the bytes that are hashed, so you can \
            check the digest with sha256sum (docs/approvals.md, "The stage digest").

            Exit status: 0 printed, 1 no such pipeline or stage (or its spec is invalid), 2 usage error.
            """
    )

    @Option(help: "Working copy of the watched repository (its pipelines/ directory is read).") var repo: String = "."
    @Option(help: "Pipeline name.") var pipeline: String
    @Option(help: "Stage name.") var stage: String
    @Flag(help: "Print the canonical JSON that is hashed instead of the digest.") var canonical = false

    func run() throws {
        do {
            let found = try ApprovalAuthoring.boundStage(repository: repo, pipeline: pipeline, stage: stage)
            print(canonical ? ApprovalDigest.canonical(found) : ApprovalDigest.of(found))
        } catch let error as ApprovalAuthoringError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

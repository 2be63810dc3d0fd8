import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent state …`: operate on the agent's state directory.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Operate on the agent's state (see docs/operations.md, \"Damaged state\").",
        subcommands: [StateRebuildCommand.self]
    )
}

/// `pipeline-agent state rebuild`: a new state database from the audit log.
struct StateRebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild a lost state.sqlite from the audit log (stop the agent and move the damaged file aside first).",
        discussion: """
            Verifies the audit log's chain, then writes a new state.sqlite: each stage's current and previous \
            candidate from promotion.succeeded records, every promotion and its outcome, and the anchor at the \
            log's last record. Promotions that the log shows started but not ended are left running, and the next \
            start recovers them. Refuses while an agent runs on the state directory, when a non-empty state.sqlite \
            exists, or when the log does not verify.

            Exit status: 0 rebuilt, 1 refused (the reason is printed), 2 usage error.
            """
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let lock = try StateDirectoryLock(directory: config.stateDirectory)
        let summary = try withExtendedLifetime(lock) { try StateRebuild.rebuild(directory: config.stateDirectory) }
        print(
            "rebuilt \(config.stateDirectory)/\(SQLiteStateStore.fileName) from \(summary.records) audit records: "
                + "\(summary.promotions) promotions (\(summary.unfinished) unfinished), \(summary.stages) stages deployed")
    }
}

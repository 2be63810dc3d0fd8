import ArgumentParser
import Foundation
import Reconciler

/// The `pipeline-agent` executable: parses the command line and hands over to one subcommand.
@main
struct PipelineAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline-agent",
        abstract: "Gated, approved, audited promotion of one deliverable through dev → staging → prod, GitOps-style.",
        discussion: """
            The agent watches a Git repository holding pipeline specs (pipelines/*.yaml) and signed \
            approvals (approvals/**), and promotes each new candidate commit stage by stage.

            Exit status: 0 success, 1 the command's check failed, 2 usage error. Docs: docs/ in the repository.
            """,
        version: BuildInfo.releaseVersion,
        subcommands: [
            ValidateCommand.self, PlanCommand.self, RunCommand.self, StatusCommand.self, ApproveCommand.self,
            ApprovalDigestCommand.self,
            RetryCommand.self, HistoryCommand.self, LogsCommand.self, AuditCommand.self, StateCommand.self, SchemaCommand.self,
            VersionCommand.self,
        ]
    )

    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exitWithUsageStatus(error)
        }
    }

    /// Usage errors exit 2, as documented; everything else keeps ArgumentParser's status.
    private static func exitWithUsageStatus(_ error: Error) -> Never {
        let code = exitCode(for: error)
        guard code == .validationFailure else { exit(withError: error) }
        FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
        Foundation.exit(2)
    }
}

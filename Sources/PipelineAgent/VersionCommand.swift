import ArgumentParser
import Foundation
import Reconciler

/// `pipeline-agent version`: the release and what it is linked with (for bug reports and upgrades).
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version and the libraries this build uses (libgit2, libcurl, SQLite).",
        discussion: "`--version` prints the release alone. Exit status 0."
    )

    @Option(name: [.short, .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let info = BuildInfo.current()
        switch output {
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(info), as: UTF8.self))
        case .text:
            print("pipeline-agent \(info.version)")
            print("  swift    \(info.swift)")
            print("  libgit2  \(info.libgit2)")
            print("  libcurl  \(info.libcurl)")
            print("  sqlite   \(info.sqlite)")
            print("  platform \(info.platform)")
        }
    }
}

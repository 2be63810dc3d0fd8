import ArgumentParser
import Foundation
import SpecModel

/// `--config FILE`, shared by every command that works on an agent's state.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The agent config file (YAML).")
    var config: String

    /// Loads the config, turning its diagnostics into a usage-style failure.
    func load() throws -> AgentConfig {
        try Self.load(config)
    }

    /// Loads the config at `path` (a command that takes two: `state copy`).
    static func load(_ path: String) throws -> AgentConfig {
        switch AgentConfigLoader.load(path: path) {
        case .success(let loaded): return loaded
        case .failure(let error):
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
    }
}

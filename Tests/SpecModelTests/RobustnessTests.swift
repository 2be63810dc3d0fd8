import Foundation
import SpecModel
import Testing

/// A small deterministic generator, so a failing case can be replayed from its seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Robustness: random and damaged input never crashes")
struct RobustnessTests {
    static let seedFiles: [Data] = {
        let reference = repositoryRoot.appendingPathComponent("pipelines/olist-analytics.yaml")
        let multi = fixtures.appendingPathComponent("valid/multi-document.yaml")
        return [reference, multi].compactMap { try? Data(contentsOf: $0) }
    }()

    /// Every diagnostic of damaged input must still be located in the file.
    private func assertLocated(_ bytes: Data, _ label: String) {
        let file = SpecFile(path: label, bytes: bytes)
        for diagnostic in file.diagnostics {
            #expect(diagnostic.location.line >= 1 && diagnostic.location.column >= 1, "\(label): \(diagnostic)")
        }
    }

    @Test("every truncation of the real specs")
    func truncations() throws {
        #expect(Self.seedFiles.count == 2)
        for (fileIndex, seed) in Self.seedFiles.enumerated() {
            for length in stride(from: 0, to: seed.count, by: 3) {
                assertLocated(seed.prefix(length), "truncated-\(fileIndex)-\(length)")
            }
        }
    }

    @Test("random byte edits of the real specs", arguments: [1, 2, 3, 4])
    func mutations(seed: UInt64) {
        var random = SplitMix(state: seed)
        let alphabet = Array(":-[]{}&*!|>'\"#%@`,? \n\t\0abc019é".utf8)
        for round in 0..<300 {
            var bytes = Self.seedFiles[round % Self.seedFiles.count]
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[bytes.startIndex + position] = alphabet.randomElement(using: &random) ?? 0
                case 1: bytes.remove(at: bytes.startIndex + position)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: bytes.startIndex + position)
                }
            }
            assertLocated(bytes, "mutated-\(seed)-\(round)")
        }
    }

    @Test("pure random bytes and random YAML-ish text")
    func randomInput() {
        var random = SplitMix(state: 42)
        let tokens = [
            "apiVersion: pipeline-agent/v1\n", "kind: Pipeline\n", "- ", ": ", "stages", "steps", "{", "}", "[", "]",
            "&a ", "*a ", "---\n", "\n  ", "name: x", "'", "\"", "!!int ", "? ", "<<: *a\n", "#",
        ]
        for round in 0..<500 {
            let count = Int.random(in: 0...200, using: &random)
            let bytes = Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &random) })
            assertLocated(bytes, "random-\(round)")
            let text = (0..<Int.random(in: 0...60, using: &random)).map { _ in tokens.randomElement(using: &random) ?? "" }
                .joined()
            assertLocated(Data(text.utf8), "tokens-\(round)")
        }
    }
}

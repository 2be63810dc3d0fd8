import SpecModel
import Testing

@Suite("Spec values")
struct ValuesTests {
    @Test(
        "durations",
        arguments: [
            ("90s", 90_000), ("15m", 900_000), ("2h", 7_200_000), ("1h30m", 5_400_000), ("250ms", 250), ("1d", 86_400_000),
        ])
    func durations(text: String, milliseconds: Int64) {
        #expect(SpecDuration(text)?.milliseconds == milliseconds)
    }

    @Test("bad durations", arguments: ["", "10", "m", "10 m", "1.5h", "-1s", "10x", "99999999999999999999d"])
    func badDurations(text: String) {
        #expect(SpecDuration(text) == nil)
    }

    @Test("thresholds")
    func thresholds() throws {
        let strict = try #require(Threshold(">10"))
        #expect(!strict.isCrossed(by: 10))
        #expect(strict.isCrossed(by: 11))
        let inclusive = try #require(Threshold(">=1"))
        #expect(inclusive.isCrossed(by: 1))
        #expect(!inclusive.isCrossed(by: 0))
        for bad in ["10", "<10", ">", ">-1", ">1.5", "> 1", ">=x"] {
            #expect(Threshold(bad) == nil, "\(bad)")
        }
    }

    @Test("clock times")
    func clockTimes() {
        #expect(ClockTime("09:00")?.minutes == 540)
        #expect(ClockTime("24:00")?.minutes == 1440)
        for bad in ["9:00", "24:01", "12:60", "12", "ab:cd", "12:00:00"] {
            #expect(ClockTime(bad) == nil, "\(bad)")
        }
    }

    @Test("path globs")
    func globs() throws {
        let tree = try #require(PathGlob("examples/olist-analytics/**"))
        #expect(tree.matches("examples/olist-analytics/models/a.sql"))
        #expect(tree.matches("examples/olist-analytics"))
        #expect(!tree.matches("examples/other/x.sql"))
        let directory = try #require(PathGlob("services/api"))
        #expect(directory.matches("services/api/main.swift"))
        #expect(!directory.matches("services/api2/main.swift"))
        let star = try #require(PathGlob("docs/*.md"))
        #expect(star.matches("docs/a.md"))
        #expect(!star.matches("docs/sub/a.md"))
        let deep = try #require(PathGlob("**/*.sql"))
        #expect(deep.matches("a/b/c.sql"))
        #expect(deep.matches("c.sql"))
        #expect(PathGlob.anyMatches([], "anything"))
        // The literal-prefix fast path stops at segment boundaries.
        let team = try #require(PathGlob("teams/p1/**"))
        #expect(team.matches("teams/p1/data.txt") && team.matches("teams/p1"))
        #expect(!team.matches("teams/p10/data.txt") && !team.matches("teams/p"))
        let mixed = try #require(PathGlob("models/*/schema.yml"))
        #expect(mixed.matches("models/staging/schema.yml"))
        #expect(!mixed.matches("models/staging/other.yml") && !mixed.matches("modelsx/a/schema.yml"))
        for bad in ["", "/etc/**", "../x", "a//b"] {
            #expect(PathGlob(bad) == nil, "\(bad)")
        }
    }
}

/// HTML built by appending, for the overview's thousands of stage cards: markup comes only from string
/// literals (`StaticString`, fixed when the agent is compiled), every other value is escaped as the templates
/// escape it (`PageEscaping`). There is no way to append a run-time string unescaped (decision 0023).
struct HTMLWriter {
    private(set) var html = ""
    private static let escaping = PageEscaping()

    init(capacity: Int = 1024) {
        html.reserveCapacity(capacity)
    }

    /// Markup written in the source code.
    mutating func markup(_ literal: StaticString) {
        literal.withUTF8Buffer { html += String(decoding: $0, as: UTF8.self) }
    }

    /// A value, escaped (text or an attribute value in double quotes).
    mutating func text(_ value: String) {
        html += Self.escaping.escapeText(value)
    }
}

/// What the overview shows of one pipeline, as values.
struct PipelineSection: Sendable {
    let name: String
    let anchor: String
    /// A pipeline that never had a valid spec: its phase, tone and first error.
    let invalid: (phase: String, tone: String, reason: String)?
    let stages: [StageCard]
}

/// One stage card: phase and health (colour and word), what runs and what should, why, the floor, stale approvals.
struct StageCard: Sendable {
    struct Commit: Sendable {
        let short: String
        /// Subject and author; nil when the mirror lacks the commit or it was shown earlier in the pipeline.
        let subject: String?
        let author: String?
    }

    let name: String
    let href: String
    let phase: String
    let tone: String
    let health: String
    let healthTone: String
    let current: Commit?
    let desired: Commit?
    let reason: String?
    let floor: [String]
    let stale: [(approver: String, commit: String, changes: [String])]
}

extension HTMLWriter {
    /// `<section id=…><h2>name</h2>` and the stage cards.
    mutating func section(_ section: PipelineSection) {
        markup("<section id=\"")
        text(section.anchor)
        markup("\"><h2>")
        text(section.name)
        markup("</h2>")
        if let invalid = section.invalid {
            markup("<p><b class=\"")
            text(invalid.tone)
            markup("\">")
            text(invalid.phase)
            markup("</b> ")
            text(invalid.reason)
            markup("</p>")
        }
        for stage in section.stages { card(stage) }
        markup("</section>\n")
    }

    mutating func card(_ card: StageCard) {
        markup("<div class=\"")
        text(card.tone)
        markup("\"><h3><a href=\"")
        text(card.href)
        markup("\">")
        text(card.name)
        markup("</a> ")
        badge(card.tone, card.phase)
        markup(" ")
        badge(card.healthTone, "health " + card.health)
        markup("</h3>")
        if let current = card.current { commit("running", current) } else { markup("<p>running nothing yet</p>") }
        if let desired = card.desired { commit("desired", desired) }
        if let reason = card.reason { paragraph(reason) }
        for line in card.floor {
            markup("<p class=\"fl\">")
            text(line)
            markup("</p>")
        }
        for stale in card.stale { staleApproval(stale) }
        markup("</div>")
    }

    private mutating func badge(_ tone: String, _ word: String) {
        markup("<b class=\"")
        text(tone)
        markup("\">")
        text(word)
        markup("</b>")
    }

    private mutating func paragraph(_ value: String) {
        markup("<p>")
        text(value)
        markup("</p>")
    }

    private mutating func commit(_ label: StaticString, _ commit: StageCard.Commit) {
        markup("<p>")
        markup(label)
        markup(" <code>")
        text(commit.short)
        markup("</code>")
        if let subject = commit.subject {
            markup(" ")
            text(subject)
            markup(" <i>")
            text(commit.author ?? "")
            markup("</i>")
        }
        markup("</p>")
    }

    private mutating func staleApproval(_ stale: (approver: String, commit: String, changes: [String])) {
        markup("<p class=\"stale\">approval by ")
        text(stale.approver)
        markup(" (commit <code>")
        text(stale.commit)
        markup("</code>) is stale: the stage spec changed")
        for change in stale.changes {
            markup("<br><code>")
            text(change)
            markup("</code>")
        }
        markup("</p>")
    }
}

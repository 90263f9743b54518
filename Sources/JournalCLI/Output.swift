import Foundation
import Journal
import JournalProjections

/// Writing to stdout and stderr, and formatting for people.
enum Output {
    /// Writes `bytes` to a new file at `path`; an existing file is never overwritten.
    static func writeNewFile(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .withoutOverwriting)
        } catch {
            throw JournalError.invalidArgument("cannot write \(path): \(error.localizedDescription) (an existing file is never overwritten)")
        }
    }

    static func line(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func json(_ value: JSONValue) {
        line(CanonicalJSON.string(value))
    }

    /// `1234567` → `1,234,567`.
    static func count(_ value: some BinaryInteger) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0, (digits.count - offset) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// `1, "customer"` → `1 customer`, `1234, "event"` → `1,234 events`.
    static func count(_ value: some BinaryInteger, _ noun: String) -> String {
        count(value) + " " + (value == 1 ? noun : noun + "s")
    }

    /// E.g. `timeline: folding events, 200,000 of 1,079,980` or `timeline: building indexes`.
    static func describe(_ progress: FoldProgress) -> String {
        var text = "\(progress.projection): \(progress.step.rawValue)"
        if progress.done > 0 || progress.total != nil {
            text += ", " + count(progress.done) + (progress.total.map { " of " + count($0) } ?? "")
        }
        return text
    }

    /// Left-aligned columns separated by two spaces (``TextTable``).
    static func table(_ header: [String], _ rows: [[String]]) -> String { TextTable.render(header, rows) }

    static func tableWidths(_ header: [String], _ rows: [[String]]) -> [Int] { TextTable.widths(header, rows) }

    static func tableLine(_ cells: [String], _ widths: [Int]) -> String { TextTable.line(cells, widths) }

    static func summary(_ payload: JSONValue, width: Int = 72) -> String { TextTable.summary(payload, width: width) }

    /// The table of events used by `history` and `log`.
    static func eventTable(_ events: [RecordedEvent], withCustomer: Bool) -> String {
        var header = ["POS", "VER"]
        if withCustomer { header.append("CUSTOMER") }
        header += ["OCCURRED", "RECORDED", "TYPE", "CASE", "PAYLOAD"]
        let rows = events.map { event -> [String] in
            var row = [String(event.position), String(event.streamVersion)]
            if withCustomer { row.append(event.customerId) }
            row += [
                event.occurredAt, String(event.recorded.rfc3339.prefix(16)) + "Z", event.type, event.caseId ?? "-",
                summary(event.payloadJSON),
            ]
            return row
        }
        return table(header, rows)
    }
}

import Foundation

/// SQL text cut into tokens as SQLite reads it: enough to split statements, find their first words
/// and rename tables, without parsing the grammar.
struct SQLText {
    enum Kind: Equatable {
        case word, quotedName, string, number, comment, space, punctuation
    }

    struct Token: Equatable {
        var kind: Kind
        var text: Substring
        /// 1-based line of the token's first character.
        var line: Int

        /// A name's text without its quotes (`"a""b"` → `a"b`); other tokens' text as is.
        var name: String {
            guard kind == .quotedName, let first = text.first else { return String(text) }
            let close: Character = first == "[" ? "]" : first
            var inner = String(text.dropFirst().dropLast())
            if first != "[" { inner = inner.replacingOccurrences(of: String(repeating: close, count: 2), with: String(close)) }
            return inner
        }
    }

    /// A statement: its tokens (without the closing `;`) and the line it starts on.
    struct Statement {
        var tokens: [Token]
        /// The line of its first word.
        var line: Int

        /// The line its text (spaces and comments before the first word included) starts on.
        var textLine: Int { tokens.first?.line ?? line }

        /// The significant tokens (no spaces or comments).
        var words: [Token] { tokens.filter { $0.kind != .space && $0.kind != .comment } }

        /// The statement with `customerId` written `+customerId` where it is tested against
        /// `batch_customers` (``batchCustomerTests``) and where it leads a `GROUP BY` or `PARTITION BY`,
        /// the column qualified or not. The results are the same; SQLite then scans the log and sorts
        /// instead of walking the customer index and fetching each row from it, the faster plan when the
        /// batch holds most of the log's customers.
        func scanningBatchCustomers() -> Statement {
            let words = Significant(tokens)
            var operands = batchCustomerTests.map(\.operand)
            for position in words.positions where words.isName(position, "by")
                && (words.isName(position - 1, "group") || words.isName(position - 1, "partition"))
            {
                var last = position + 1
                while words.isName(last) && words.isDot(last + 1) && words.isName(last + 2) { last += 2 }
                if words.isName(last, "customerid") && !words.isDot(last + 1) { operands.append(words.index(position + 1)) }
            }
            var result = self
            for operand in operands.sorted().reversed() {
                result.tokens.insert(Token(kind: .punctuation, text: "+", line: tokens[operand].line), at: operand)
            }
            return result
        }

        /// The statement with each test `customerId IN batch_customers` (``batchCustomerTests``) written
        /// `customerId IN (<list>)`, `list` being the batch's customers as SQL literals. The results are
        /// the same (a text column compared with text values); SQLite pushes a list of values down into a
        /// view's windowed or grouped subquery, where it cannot push a subquery, so a small batch reads
        /// only its customers' rows of every view.
        func inliningBatchCustomers(_ list: String) -> Statement {
            var result = self
            for test in batchCustomerTests.reversed() {
                result.tokens.replaceSubrange(test.table, with: [Token(kind: .punctuation, text: Substring("(\(list))"), line: tokens[test.table.lowerBound].line)])
            }
            return result
        }

        /// Where the statement tests `customerId IN batch_customers` (the column qualified or not, the
        /// table with or without `temp.`), in token indices: the operand's first token and the table's
        /// tokens. `NOT IN` and other columns are not counted.
        var batchCustomerTests: [(operand: Int, table: ClosedRange<Int>)] {
            let words = Significant(tokens)
            var tests: [(operand: Int, table: ClosedRange<Int>)] = []
            for position in words.positions where words.isName(position, "in") && words.isName(position - 1, "customerid") {
                let table = words.isName(position + 1, "temp") && words.isDot(position + 2) ? position + 3 : position + 1
                guard words.isName(table, "batch_customers") else { continue }
                var operand = position - 1
                while words.isDot(operand - 1) && words.isName(operand - 2) { operand -= 2 }
                tests.append((words.index(operand), words.index(position + 1)...words.index(table)))
            }
            return tests
        }

        /// The statement's text, each token passed through `rename`.
        func text(renaming rename: (Token) -> String? = { _ in nil }) -> String {
            tokens.map { rename($0) ?? String($0.text) }.joined()
        }
    }

    /// A statement's significant tokens (no spaces or comments), looked at by their position among
    /// themselves; positions out of range are nothing.
    struct Significant {
        private let tokens: [Token]
        private let indices: [Int]

        init(_ tokens: [Token]) {
            self.tokens = tokens
            indices = tokens.indices.filter { tokens[$0].kind != .space && tokens[$0].kind != .comment }
        }

        var positions: Range<Int> { indices.indices }

        /// The token index of the significant token at `position`.
        func index(_ position: Int) -> Int { indices[position] }

        func isName(_ position: Int, _ name: String? = nil) -> Bool {
            guard indices.indices.contains(position) else { return false }
            let token = tokens[indices[position]]
            guard token.kind == .word || token.kind == .quotedName else { return false }
            return name == nil || token.name.lowercased() == name
        }

        func isDot(_ position: Int) -> Bool { indices.indices.contains(position) && tokens[indices[position]].text == "." }
    }

    /// Text SQLite would not read, or that the sandbox refuses before compiling it.
    struct UnterminatedError: Error {
        var line: Int
        var what: String
    }

    let tokens: [Token]

    init(_ source: String) throws(UnterminatedError) {
        var tokens: [Token] = []
        let text = Substring(source)
        var index = text.startIndex
        var line = 1
        func advance(while condition: (Character) -> Bool) {
            while index < text.endIndex, condition(text[index]) { index = text.index(after: index) }
        }
        while index < text.endIndex {
            let start = index, startLine = line
            let character = text[index]
            let kind: Kind
            if character.isWhitespace {
                advance { $0.isWhitespace }
                kind = .space
            } else if text[index...].hasPrefix("--") {
                advance { $0 != "\n" }
                kind = .comment
            } else if text[index...].hasPrefix("/*") {
                guard let end = text[text.index(index, offsetBy: 2)...].range(of: "*/") else {
                    throw UnterminatedError(line: line, what: "a /* comment is not closed")
                }
                index = end.upperBound
                kind = .comment
            } else if character == "'" || character == "\"" || character == "`" || character == "[" {
                let close: Character = character == "[" ? "]" : character
                index = text.index(after: index)
                while true {
                    guard index < text.endIndex else {
                        throw UnterminatedError(line: startLine, what: character == "'" ? "a string is not closed" : "a quoted name is not closed")
                    }
                    let current = text[index]
                    index = text.index(after: index)
                    if current == close {
                        // A doubled quote stands for itself (not in [brackets]).
                        if close != "]", index < text.endIndex, text[index] == close { index = text.index(after: index); continue }
                        break
                    }
                }
                kind = character == "'" ? .string : .quotedName
            } else if character.isLetter || character == "_" {
                advance { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }
                kind = .word
            } else if character.isNumber {
                advance { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }
                kind = .number
            } else {
                index = text.index(after: index)
                kind = .punctuation
            }
            let piece = text[start..<index]
            line += piece.reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            tokens.append(Token(kind: kind, text: piece, line: startLine))
        }
        self.tokens = tokens
    }

    /// The names given by `WITH` clauses: a word followed by `AS (` or by a column list and `AS (`,
    /// after `WITH`, `RECURSIVE` or a comma.
    var withNames: [Token] {
        let words = tokens.filter { $0.kind != .space && $0.kind != .comment }
        var names: [Token] = []
        var index = 0
        while index < words.count {
            let upper = words[index].text.uppercased()
            if upper == "WITH" || upper == "RECURSIVE" || words[index].text == "," {
                let nameIndex = index + 1
                var next = nameIndex + 1
                if next < words.count, words[next].text == "(" {
                    var depth = 0
                    while next < words.count {
                        if words[next].text == "(" { depth += 1 } else if words[next].text == ")" { depth -= 1; if depth == 0 { break } }
                        next += 1
                    }
                    next += 1
                }
                if nameIndex < words.count, words[nameIndex].kind == .word || words[nameIndex].kind == .quotedName,
                    next + 1 < words.count, words[next].text.uppercased() == "AS", words[next + 1].text == "(" || words[next + 1].text.uppercased() == "MATERIALIZED" || words[next + 1].text.uppercased() == "NOT"
                {
                    names.append(words[nameIndex])
                }
            }
            index += 1
        }
        return names
    }

    /// Refuses a `WITH` clause named like one of `reserved` (lower-cased): it would stand for that view
    /// in the sandbox's eyes.
    func checkWithNames(against reserved: Set<String>) throws(UnterminatedError) {
        if let clash = withNames.first(where: { reserved.contains($0.name.lowercased()) }) {
            throw UnterminatedError(line: clash.line, what: "a WITH clause may not be named \(clash.name): that is the name of a view")
        }
    }

    /// The statements, split at `;`; empty ones (only spaces and comments) are left out.
    var statements: [Statement] {
        var statements: [Statement] = []
        var current: [Token] = []
        func close() {
            let statement = Statement(tokens: current, line: current.first { $0.kind != .space && $0.kind != .comment }?.line ?? 0)
            if !statement.words.isEmpty { statements.append(statement) }
            current = []
        }
        for token in tokens {
            if token.kind == .punctuation, token.text == ";" { close() } else { current.append(token) }
        }
        close()
        return statements
    }
}

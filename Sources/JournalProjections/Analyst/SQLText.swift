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
        /// `batch_customers` (`customerId IN batch_customers`, the table with or without `temp.`) and
        /// where it leads a `GROUP BY` or `PARTITION BY`, the column qualified or not. The results are
        /// the same; SQLite then scans the log and sorts instead of walking the customer index and
        /// fetching each row from it, the faster plan when the batch holds most of the log's customers.
        func scanningBatchCustomers() -> Statement {
            let significant = tokens.indices.filter { tokens[$0].kind != .space && tokens[$0].kind != .comment }
            func token(_ position: Int) -> Token? { significant.indices.contains(position) ? tokens[significant[position]] : nil }
            func isName(_ position: Int, _ name: String? = nil) -> Bool {
                guard let token = token(position), token.kind == .word || token.kind == .quotedName else { return false }
                return name == nil || token.name.lowercased() == name
            }
            func isDot(_ position: Int) -> Bool { token(position)?.text == "." }
            // The start of a (possibly qualified) name ending at `last`: `customerId`, `t.customerId`, `main.t.customerId`.
            func nameStart(endingAt last: Int) -> Int {
                var start = last
                while isDot(start - 1) && isName(start - 2) { start -= 2 }
                return start
            }
            var operands: [Int] = []
            for position in significant.indices {
                if isName(position, "in") && isName(position - 1, "customerid") {
                    let table = isName(position + 1, "temp") && isDot(position + 2) ? position + 3 : position + 1
                    guard isName(table, "batch_customers") else { continue }
                    operands.append(nameStart(endingAt: position - 1))
                } else if isName(position, "by") && (isName(position - 1, "group") || isName(position - 1, "partition")) {
                    var last = position + 1
                    while isName(last) && isDot(last + 1) && isName(last + 2) { last += 2 }
                    if isName(last, "customerid") && !isDot(last + 1) { operands.append(position + 1) }
                }
            }
            var result = self
            for operand in operands.map({ significant[$0] }).sorted().reversed() {
                result.tokens.insert(Token(kind: .punctuation, text: "+", line: tokens[operand].line), at: operand)
            }
            return result
        }

        /// The statement with `customerId IN batch_customers` (the column qualified or not, the table
        /// with or without `temp.`) written `customerId IN (<list>)`, `list` being the batch's customers
        /// as SQL literals. The results are the same;
        /// SQLite pushes a list of values down into a view's windowed or grouped subquery, where it
        /// cannot push a subquery, so a small batch reads only its customers' rows of every view.
        func inliningBatchCustomers(_ list: String) -> Statement {
            var result = self
            var index = tokens.count - 1
            func previousSignificant(_ from: Int) -> Int? {
                var position = from - 1
                while position >= 0, tokens[position].kind == .space || tokens[position].kind == .comment { position -= 1 }
                return position >= 0 ? position : nil
            }
            while index >= 0 {
                defer { index -= 1 }
                let token = tokens[index]
                guard token.kind == .word || token.kind == .quotedName, token.name.lowercased() == "batch_customers",
                    var start = previousSignificant(index)
                else { continue }
                var first = index
                if tokens[start].text == ".", let schema = previousSignificant(start), tokens[schema].name.lowercased() == "temp",
                    let before = previousSignificant(schema)
                {
                    first = schema
                    start = before
                }
                // Only `customerId IN …`: a text column compared with text values, the same with a list as with the table.
                guard tokens[start].text.uppercased() == "IN", let operand = previousSignificant(start),
                    [.word, .quotedName].contains(tokens[operand].kind), tokens[operand].name.lowercased() == "customerid"
                else { continue }
                result.tokens.replaceSubrange(first...index, with: [Token(kind: .punctuation, text: Substring("(\(list))"), line: token.line)])
            }
            return result
        }

        /// The statement's text, each token passed through `rename`.
        func text(renaming rename: (Token) -> String? = { _ in nil }) -> String {
            tokens.map { rename($0) ?? String($0.text) }.joined()
        }
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

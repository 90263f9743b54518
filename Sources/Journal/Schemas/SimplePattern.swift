/// A fast matcher for the regular expressions schemas typically use for codes and identifiers:
/// anchors `^` `$`, literals, `.`, `\d`, escaped punctuation, character classes `[A-Z0-9_-]`, and the
/// quantifiers `?` `*` `+` `{n}` `{n,}` `{n,m}`. Anything else (groups, alternation, look-around)
/// is refused: ``init(_:)`` returns nil for such patterns, and the schema does not load.
///
/// Semantics follow ECMA-262 `test()`: unanchored patterns may match anywhere.
struct SimplePattern: Sendable {
    private struct Atom: Sendable {
        var ranges: [ClosedRange<UInt32>]
        var negated = false
        var minimum = 1
        var maximum = 1

        func accepts(_ scalar: UInt32) -> Bool {
            ranges.contains { $0.contains(scalar) } != negated
        }
    }

    private let atoms: [Atom]
    private let anchoredStart: Bool
    private let anchoredEnd: Bool

    init?(_ pattern: String) {
        var scalars = Array(pattern.unicodeScalars.map(\.value))
        anchoredStart = scalars.first == 94  // ^
        if anchoredStart { scalars.removeFirst() }
        anchoredEnd = scalars.last == 36 && (scalars.count < 2 || scalars[scalars.count - 2] != 92)  // $ not escaped
        if anchoredEnd { scalars.removeLast() }
        var atoms: [Atom] = []
        var i = 0
        func digit(_ scalar: UInt32) -> Int? { (48...57).contains(scalar) ? Int(scalar - 48) : nil }
        while i < scalars.count {
            let c = scalars[i]
            var atom: Atom
            switch c {
            case 40, 41, 124, 94, 36:  // ( ) | ^ $ in the middle
                return nil
            case 46:  // . — any character but line terminators, as in ECMAScript
                atom = Atom(ranges: [10...10, 13...13, 0x2028...0x2029], negated: true)
                i += 1
            case 92:  // backslash
                guard i + 1 < scalars.count else { return nil }
                let e = scalars[i + 1]
                if e == 100 { atom = Atom(ranges: [48...57]) }  // \d
                else if (48...57).contains(e) || (65...90).contains(e) || (97...122).contains(e) { return nil }
                else { atom = Atom(ranges: [e...e]) }
                i += 2
            case 91:  // [
                i += 1
                var negated = false
                if i < scalars.count, scalars[i] == 94 { negated = true; i += 1 }
                var ranges: [ClosedRange<UInt32>] = []
                var closed = false
                while i < scalars.count {
                    var low = scalars[i]
                    if low == 93, !ranges.isEmpty || closed { closed = true; i += 1; break }
                    if low == 92 {
                        guard i + 1 < scalars.count else { return nil }
                        low = scalars[i + 1]
                        if low == 100 { ranges.append(48...57); i += 2; continue }
                        if (65...90).contains(low) || (97...122).contains(low) { return nil }
                        i += 1
                    }
                    if i + 2 < scalars.count, scalars[i + 1] == 45, scalars[i + 2] != 93 {  // a-z
                        let high = scalars[i + 2]
                        guard high != 92, low <= high else { return nil }
                        ranges.append(low...high)
                        i += 3
                    } else {
                        ranges.append(low...low)
                        i += 1
                    }
                }
                guard closed || (i <= scalars.count && scalars[i - 1] == 93), !ranges.isEmpty else { return nil }
                atom = Atom(ranges: ranges, negated: negated)
            case 42, 43, 63, 123, 125, 93:  // quantifier or bracket without an atom
                return nil
            default:
                atom = Atom(ranges: [c...c])
                i += 1
            }
            // Quantifier.
            if i < scalars.count {
                switch scalars[i] {
                case 63: atom.minimum = 0; i += 1
                case 42: atom.minimum = 0; atom.maximum = Int.max; i += 1
                case 43: atom.maximum = Int.max; i += 1
                case 123:
                    var j = i + 1
                    var low = 0, high: Int?
                    var sawDigit = false
                    while j < scalars.count, let d = digit(scalars[j]) { low = low * 10 + d; j += 1; sawDigit = true }
                    guard sawDigit, j < scalars.count else { return nil }
                    if scalars[j] == 44 {
                        j += 1
                        var value = 0
                        var sawHigh = false
                        while j < scalars.count, let d = digit(scalars[j]) { value = value * 10 + d; j += 1; sawHigh = true }
                        high = sawHigh ? value : Int.max
                    } else {
                        high = low
                    }
                    guard j < scalars.count, scalars[j] == 125, let high, low <= high else { return nil }
                    atom.minimum = low
                    atom.maximum = high
                    i = j + 1
                default: break
                }
                if i < scalars.count, [42, 43, 63, 123].contains(scalars[i]) { return nil }  // lazy or stacked quantifiers
            }
            atoms.append(atom)
        }
        self.atoms = atoms
    }

    func matches(_ string: String) -> Bool {
        let input = string.unicodeScalars.map(\.value)
        if anchoredStart { return match(input, 0, 0) }
        for start in 0...input.count where match(input, start, 0) { return true }
        return false
    }

    private func match(_ input: [UInt32], _ position: Int, _ atomIndex: Int) -> Bool {
        if atomIndex == atoms.count { return !anchoredEnd || position == input.count }
        let atom = atoms[atomIndex]
        var count = 0
        while count < atom.minimum {
            guard position + count < input.count, atom.accepts(input[position + count]) else { return false }
            count += 1
        }
        var greedy = count
        while greedy < atom.maximum, position + greedy < input.count, atom.accepts(input[position + greedy]) { greedy += 1 }
        while greedy >= count {
            if match(input, position + greedy, atomIndex + 1) { return true }
            greedy -= 1
        }
        return false
    }
}

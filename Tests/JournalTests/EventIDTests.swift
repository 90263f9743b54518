import Journal
import Testing

@Suite struct EventIDTests {
    @Test func version7PutsTheMillisecondsFirstAndSetsVersionAndVariant() {
        let id = EventID.version7(milliseconds: 0x0190_F7A2_5B1C, random: (0x1122_3344_5566_7788, 0x99AA))
        #expect(id.rawValue == "0190f7a2-5b1c-7877-a655-44332211aa99")
        #expect(EventID(id.rawValue) == id)
        let zero = EventID.version7(milliseconds: 0, random: (0, 0))
        #expect(zero.rawValue == "00000000-0000-7000-8000-000000000000")
    }

    @Test func acceptsEitherCaseAndKeepsSmallLetters() {
        #expect(EventID("0190F7A2-5B1C-7877-A655-44332211AA99")?.rawValue == "0190f7a2-5b1c-7877-a655-44332211aa99")
        #expect(EventID("0190f7a2-5b1c-7877-a655-44332211aa99")?.rawValue == "0190f7a2-5b1c-7877-a655-44332211aa99")
        #expect(EventID("0190f7a2-5b1c-7877-a655-44332211aA99") == EventID("0190F7A2-5B1C-7877-A655-44332211AA99"))
        // A dash out of place, a letter beyond f, one digit short or too many: no id.
        for text in ["0190f7a25-b1c-7877-a655-44332211aa99", "0190f7a2-5b1c-7877-a655-44332211ag99",
                     "0190f7a2-5b1c-7877-a655-44332211aa9", "0190f7a2-5b1c-7877-a655-44332211aa990", ""] {
            #expect(EventID(text) == nil, "\(text)")
        }
    }
}

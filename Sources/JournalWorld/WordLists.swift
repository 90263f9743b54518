import Foundation

/// The words the world is made of: countries, company names, cities, people, machines and parts.
enum WordLists {
    struct Country {
        var code: String
        var weight: Double
        var zone: WorldZone
        /// Company name patterns: `{S}` a surname, `{N}` a trade, `{P}` a place-like prefix.
        var patterns: [String]
        var surnames: [String]
        var trades: [String]
        var prefixes: [String]
        var cities: [String]
        /// Index into ``people`` for technicians and engineers of the region.
        var region: Int
    }

    static let cet = WorldZone(standardMinutes: 60)
    static let wet = WorldZone(standardMinutes: 0)
    static let eet = WorldZone(standardMinutes: 120)

    static let germanSurnames = [
        "Hoffmann", "Becker", "Wagner", "Schulz", "Keller", "Braun", "Krüger", "Lang", "Vogt", "Brandt", "Hartmann",
        "Seidel", "Albrecht", "Lorenz", "Kaiser", "Winter", "Franke", "Pohl", "Haas", "Graf", "Ziegler", "Kuhn",
        "Engel", "Roth", "Bauer", "Weiß", "Huber", "Moser", "Gruber", "Steiner",
    ]
    static let germanTrades = [
        "Präzisionsteile", "Maschinenbau", "Metallbearbeitung", "Kunststofftechnik", "Verpackungstechnik",
        "Antriebstechnik", "Feinmechanik", "Umformtechnik", "Gießerei", "Stanztechnik", "Oberflächentechnik",
        "Automation", "Anlagenbau", "Drehteile", "Werkzeugbau", "Blechbearbeitung",
    ]
    static let germanPrefixes = [
        "Nordwerk", "Südmetall", "Westform", "Rheintec", "Alpenplast", "Donauwerk", "Elbtec", "Mainmetall", "Isarform",
        "Saartec", "Weserwerk", "Harzmetall", "Neckartec", "Moselform",
    ]

    static let countries: [Country] = [
        Country(
            code: "DE", weight: 30, zone: cet, patterns: ["{S} {N} GmbH", "{S} {N} GmbH & Co. KG", "{P} {N} AG", "{S} & {T} GmbH"],
            surnames: germanSurnames, trades: germanTrades, prefixes: germanPrefixes,
            cities: [
                "Stuttgart", "Pforzheim", "Ulm", "Augsburg", "Nürnberg", "Chemnitz", "Bielefeld", "Dortmund", "Kassel",
                "Heilbronn", "Reutlingen", "Siegen", "Wuppertal", "Regensburg", "Paderborn", "Braunschweig",
            ], region: 0),
        Country(
            code: "AT", weight: 6, zone: cet, patterns: ["{S} {N} GmbH", "{P} {N} AG"],
            surnames: germanSurnames, trades: germanTrades, prefixes: germanPrefixes,
            cities: ["Linz", "Graz", "Wels", "Steyr", "Salzburg", "Wien", "Dornbirn", "Klagenfurt"], region: 0),
        Country(
            code: "CH", weight: 6, zone: cet, patterns: ["{S} {N} AG", "{P} {N} AG", "{S} {N} GmbH"],
            surnames: germanSurnames + ["Meier", "Baumann", "Frei", "Brunner", "Gerber"], trades: germanTrades,
            prefixes: ["Aaretec", "Jurametall", "Limmatwerk", "Reusstec", "Alpenform"],
            cities: ["Winterthur", "Biel", "Aarau", "St. Gallen", "Luzern", "Schaffhausen", "Solothurn"], region: 0),
        Country(
            code: "IT", weight: 10, zone: cet, patterns: ["{S} {N} S.r.l.", "{N} {S} S.p.A.", "{P} {N} S.r.l."],
            surnames: [
                "Bianchi", "Rossi", "Ferrari", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Conti", "Costa",
                "Mancini", "Lombardi", "Moretti", "Barbieri", "Fontana", "Galli", "Rinaldi",
            ],
            trades: [
                "Meccanica", "Stampaggio", "Lavorazioni Meccaniche", "Plastica", "Imballaggi", "Automazione", "Fonderia",
                "Utensileria", "Minuterie", "Carpenteria",
            ],
            prefixes: ["Padana", "Tecno", "Euro", "Nord", "Adriatica", "Lombarda"],
            cities: ["Brescia", "Bergamo", "Modena", "Bologna", "Vicenza", "Torino", "Lecco", "Parma", "Reggio Emilia", "Treviso"],
            region: 1),
        Country(
            code: "FR", weight: 10, zone: cet, patterns: ["{S} {N} SA", "{N} {S} SAS", "{P} {N} SAS"],
            surnames: [
                "Dupont", "Martin", "Bernard", "Durand", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux", "Fournier",
                "Mercier", "Blanc", "Guérin", "Chevalier", "Faure", "Rousseau",
            ],
            trades: ["Emballage", "Mécanique", "Usinage", "Plasturgie", "Fonderie", "Automatismes", "Découpage", "Décolletage", "Outillage"],
            prefixes: ["Alsace", "Rhône", "Loire", "Atlantique", "Jura", "Normandie"],
            cities: ["Lyon", "Saint-Étienne", "Grenoble", "Annecy", "Mulhouse", "Besançon", "Nantes", "Rouen", "Clermont-Ferrand", "Oyonnax"],
            region: 2),
        Country(
            code: "NL", weight: 5, zone: cet, patterns: ["{S} {N} B.V.", "{P} {N} B.V."],
            surnames: ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos", "Peters", "Hendriks"],
            trades: ["Metaalbewerking", "Verpakkingen", "Kunststoffen", "Machinebouw", "Precisietechniek", "Aandrijvingen"],
            prefixes: ["Brabant", "Twente", "Delta", "Holland", "Rijn"],
            cities: ["Eindhoven", "Enschede", "Tilburg", "Venlo", "Helmond", "Apeldoorn", "Zwolle", "Breda"], region: 3),
        Country(
            code: "BE", weight: 3, zone: cet, patterns: ["{S} {N} NV", "{S} {N} SA"],
            surnames: ["Peeters", "Janssens", "Maes", "Jacobs", "Willems", "Claes", "Goossens", "Wouters", "Dubois", "Lambert"],
            trades: ["Metaalbewerking", "Verpakkingen", "Mécanique", "Kunststoffen", "Usinage"],
            prefixes: ["Flanders", "Wallonie", "Kempen", "Schelde"],
            cities: ["Gent", "Antwerpen", "Kortrijk", "Liège", "Charleroi", "Hasselt", "Leuven"], region: 3),
        Country(
            code: "ES", weight: 5, zone: cet, patterns: ["{S} {N} S.L.", "{N} {S} S.A."],
            surnames: ["García", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz", "Díaz", "Moreno", "Álvarez"],
            trades: ["Mecanizados", "Estampaciones", "Envases", "Plásticos", "Fundiciones", "Automatismos", "Troquelados"],
            prefixes: ["Ibérica", "Levante", "Norte", "Cantábrica"],
            cities: ["Bilbao", "Vitoria", "Zaragoza", "Valencia", "Barcelona", "Pamplona", "Burgos", "Valladolid"], region: 2),
        Country(
            code: "PL", weight: 6, zone: cet, patterns: ["{N} {S} Sp. z o.o.", "{P} {N} S.A."],
            surnames: ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak"],
            trades: ["Zakład Mechaniczny", "Obróbka Metali", "Opakowania", "Tworzywa", "Odlewnia", "Narzędziownia"],
            prefixes: ["Polmet", "Metalplast", "Wistal", "Odrapak", "Mazowsze"],
            cities: ["Poznań", "Wrocław", "Katowice", "Bielsko-Biała", "Łódź", "Rzeszów", "Gdańsk", "Kielce"], region: 4),
        Country(
            code: "CZ", weight: 4, zone: cet, patterns: ["{S} {N} s.r.o.", "{P} {N} a.s."],
            surnames: ["Novák", "Svoboda", "Novotný", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák"],
            trades: ["Strojírny", "Kovovýroba", "Plasty", "Obaly", "Slévárna", "Nástrojárna"],
            prefixes: ["Moravia", "Bohemia", "Vltava", "Beskyd"],
            cities: ["Brno", "Plzeň", "Ostrava", "Zlín", "Olomouc", "Liberec", "Mladá Boleslav"], region: 4),
        Country(
            code: "SE", weight: 3, zone: cet, patterns: ["{S} {N} AB", "{P} {N} AB"],
            surnames: ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson"],
            trades: ["Mekaniska", "Verkstad", "Plast", "Förpackning", "Gjuteri"],
            prefixes: ["Norrland", "Bergslagen", "Småland", "Göta"],
            cities: ["Göteborg", "Jönköping", "Västerås", "Örebro", "Eskilstuna", "Borås"], region: 3),
        Country(
            code: "DK", weight: 2, zone: cet, patterns: ["{S} {N} A/S"],
            surnames: ["Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"],
            trades: ["Maskinfabrik", "Metal", "Plast", "Emballage", "Værktøj"],
            prefixes: ["Jylland", "Fyn", "Sjælland"],
            cities: ["Aarhus", "Odense", "Aalborg", "Vejle", "Herning", "Kolding"], region: 3),
        Country(
            code: "GB", weight: 5, zone: wet, patterns: ["{S} {N} Ltd", "{P} {N} Ltd", "{S} & {T} Ltd"],
            surnames: ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Edwards", "Turner"],
            trades: ["Precision Engineering", "Plastics", "Packaging", "Castings", "Components", "Toolmakers", "Fabrications"],
            prefixes: ["Midland", "Pennine", "Severn", "Northern", "Thames"],
            cities: ["Birmingham", "Coventry", "Sheffield", "Leeds", "Derby", "Leicester", "Bristol", "Manchester"], region: 5),
        Country(
            code: "IE", weight: 1, zone: wet, patterns: ["{S} {N} Ltd"],
            surnames: ["Murphy", "Kelly", "O'Brien", "Byrne", "Ryan", "Walsh", "O'Connor"],
            trades: ["Engineering", "Plastics", "Packaging", "Precision Components"],
            prefixes: ["Shannon", "Liffey"],
            cities: ["Cork", "Galway", "Limerick", "Athlone", "Waterford"], region: 5),
        Country(
            code: "PT", weight: 2, zone: wet, patterns: ["{S} {N} Lda.", "{N} {S} S.A."],
            surnames: ["Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins"],
            trades: ["Metalomecânica", "Moldes", "Embalagens", "Plásticos", "Fundição"],
            prefixes: ["Lusa", "Tejo", "Minho"],
            cities: ["Porto", "Braga", "Aveiro", "Leiria", "Marinha Grande", "Guimarães"], region: 2),
        Country(
            code: "FI", weight: 2, zone: eet, patterns: ["{S} {N} Oy"],
            surnames: ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen"],
            trades: ["Konepaja", "Metalli", "Muovi", "Pakkaus", "Valimo"],
            prefixes: ["Pohjois", "Savo", "Häme"],
            cities: ["Tampere", "Turku", "Oulu", "Jyväskylä", "Lahti", "Vaasa"], region: 3),
    ]
    static let countryWeights = countries.map(\.weight)

    static let industries = [
        "Automotive supplier", "Packaging", "Food and beverage", "Plastics processing", "Contract machining",
        "Metalworking", "Pharmaceuticals", "Printing", "Woodworking", "Electronics", "Aerospace", "Medical devices",
        "Foundry", "Furniture", "Agricultural machinery", "Household appliances",
    ]

    /// A person: the name shown in payloads and the actor handle.
    struct Person {
        var name: String
        var handle: String
    }

    private static func people(_ names: [String]) -> [Person] {
        names.map { name in
            let parts = name.split(separator: " ")
            let handle = (String(parts[0].prefix(1)) + String(parts.last!)).lowercased()
                .folding(options: .diacriticInsensitive, locale: nil)
                .filter { $0.isLetter && $0.isASCII }
            return Person(name: name, handle: handle)
        }
    }

    /// Field technicians per region (German-speaking, Italy, France and Iberia, Benelux and the North, Central Europe, British Isles).
    static let technicians: [[Person]] = [
        people(["M. Weber", "L. Schmid", "T. Fischer", "A. Wolf", "S. Neumann", "K. Schwarz", "D. Zimmermann", "F. Krause", "J. Hahn", "P. Vogel"]),
        people(["R. Conti", "L. Marchetti", "G. Ferri", "A. Villa", "M. Rizzo"]),
        people(["P. Laurent", "J. Morel", "C. Garnier", "N. Ruiz", "T. Lopes"]),
        people(["B. Jansen", "E. Visser", "O. Lindqvist", "H. Madsen", "V. Peeters"]),
        people(["J. Novak", "P. Kowalczyk", "T. Horák", "M. Zając"]),
        people(["D. Carter", "S. Hughes", "L. Doyle"]),
    ]
    static let contactFirstNames = [
        "Martina", "Jonas", "Sabine", "Lukas", "Elena", "Marco", "Claire", "Pieter", "Sofia", "Tomasz", "Ingrid", "Liam",
        "Ana", "Mikko", "Katrin", "Stefan", "Giulia", "Hugo", "Eva", "Jan",
    ]
    static let contactRoles = ["plant manager", "maintenance lead", "production manager", "purchasing", "shift supervisor"]
    static let dialingCodes = [
        "DE": "49", "AT": "43", "CH": "41", "IT": "39", "FR": "33", "NL": "31", "BE": "32", "ES": "34", "PL": "48", "CZ": "420",
        "SE": "46", "DK": "45", "GB": "44", "IE": "353", "PT": "351", "FI": "358",
    ]
    static let hotlineAgents = people(["Anna Kraus", "Ben Ott", "Clara Weiss", "David Roth", "Eva Lindner", "Felix Adam", "Greta Sommer", "Hugo Brandl"])
    static let keyAccountManagers = people(["S. Vogel", "P. Maier", "G. Ferri", "A. Leroy", "K. Brandt", "M. Lindholm", "J. Kowalski", "R. Evans"])
    static let dispatchers = people(["T. Koch", "I. Berger", "N. Frank"])
    static let partsDesk = people(["E. Haas", "O. Richter", "U. Stein"])
    static let serviceManagers = people(["K. Brandt", "H. Lehmann", "C. Dumas"])
    static let academy = people(["L. Bauer", "R. Kessler"])

    /// A machine model: its name in serial numbers and how much its parts cost.
    struct Model {
        var name: String
        var title: String
        var priceFactor: Double
    }

    static let models = [
        Model(name: "CNC5000", title: "CNC machining centre", priceFactor: 1.4),
        Model(name: "MILL650", title: "Milling machine", priceFactor: 1.1),
        Model(name: "LATHE300", title: "CNC lathe", priceFactor: 1.0),
        Model(name: "GRIND200", title: "Grinding machine", priceFactor: 1.2),
        Model(name: "PRESS800", title: "Hydraulic press", priceFactor: 1.3),
        Model(name: "BEND160", title: "Press brake", priceFactor: 0.9),
        Model(name: "LASER3015", title: "Laser cutting system", priceFactor: 1.6),
        Model(name: "INJECT250", title: "Injection moulding machine", priceFactor: 1.2),
        Model(name: "PACK120", title: "Packaging line", priceFactor: 0.8),
        Model(name: "ROBOCELL7", title: "Robot cell", priceFactor: 1.5),
    ]

    struct Part {
        var number: String
        var description: String
        var price: Int
    }

    /// Wear parts that customers reorder routinely.
    static let wearParts = [
        Part(number: "1120-040", description: "Filter cartridge", price: 85),
        Part(number: "1120-310", description: "Seal kit", price: 140),
        Part(number: "2210-075", description: "Drive belt", price: 120),
        Part(number: "2230-018", description: "Hydraulic hose", price: 210),
        Part(number: "3105-220", description: "Cutting blade", price: 260),
        Part(number: "3140-009", description: "Wiper strip", price: 45),
        Part(number: "4410-500", description: "Lubricant, 20 l", price: 180),
        Part(number: "4420-112", description: "Coolant concentrate", price: 160),
        Part(number: "5010-066", description: "Gripper finger set", price: 320),
        Part(number: "5120-031", description: "Nozzle", price: 95),
        Part(number: "6030-208", description: "Heating band", price: 230),
        Part(number: "6045-017", description: "Fuse set", price: 35),
    ]

    /// Parts that a breakdown needs.
    static let repairParts = [
        Part(number: "7730-114", description: "Encoder", price: 1_150),
        Part(number: "7710-020", description: "Servo motor", price: 2_900),
        Part(number: "7740-301", description: "Spindle bearing set", price: 1_800),
        Part(number: "7805-015", description: "Control board", price: 2_400),
        Part(number: "7820-440", description: "Coolant pump", price: 890),
        Part(number: "7850-007", description: "Proximity sensor", price: 210),
        Part(number: "7902-118", description: "Valve block", price: 1_350),
        Part(number: "7915-062", description: "Frequency converter", price: 2_100),
        Part(number: "7960-233", description: "Linear guide", price: 1_450),
        Part(number: "7988-010", description: "Touch panel", price: 1_700),
    ]

    static let breakdownTopics = [
        "Spindle drive fault", "Axis does not reference", "Hydraulic pressure drops", "Emergency stop circuit open",
        "Coolant pump failure", "Servo alarm", "Control does not boot", "Encoder error", "Overheating of the main motor",
        "Light curtain fault", "Tool changer jammed", "Vacuum lost", "Conveyor stopped", "Lubrication alarm",
    ]
    static let questionTopics = [
        "Parameter reset after power failure", "How to change the filter", "Alarm code meaning", "Software update question",
        "Operator training request", "Maintenance interval question", "Backup of machine data", "Spare part number lookup",
        "Noise during start-up", "Calibration procedure",
    ]
    static let competitors = [
        "Independent service provider", "Parts broker", "Local machine shop", "Competitor OEM", "Online parts shop",
        "Former service technician's company",
    ]
    static let carriers = ["Spedition Kraus", "Kühne + Nagel", "DB Schenker", "DHL Freight", "Dachser", "Rhenus"]
    static let deliveryItems = ["Safety fence, left panel", "Operating manual", "Chip conveyor", "Tool holder set", "Foot switch", "Spare fuse set"]
}

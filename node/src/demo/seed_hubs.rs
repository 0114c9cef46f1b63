//! The demo network: community hubs as described in the seed reports, each
//! with its services in the hub CSV import format, so that a demo (and the
//! tests) can run several hubs and two aggregators over them: one for
//! Lancashire and South Cumbria, as a CVS or council would run it, and one
//! for Leeds.
//!
//! Where it comes from (`shared/seeds/`):
//!
//! - *Community Hubs in Lancashire and South Cumbria: Emergence, Development
//!   and Next Steps* (UCLan): its Table 3 gives the four dimensions used here
//!   (space, governance, focus, co-ordination) and its Box 1 vignettes
//!   describe At The Grange, Lancaster Community Hub, The Bay: A Blueprint
//!   for Recovery (hub areas Barrow, Morecambe, Fleetwood) and Revoelution;
//!   the text adds Greenhill Community Hub (Skelmersdale), the Gregson
//!   Community & Arts Centre (Lancaster) and the Family Hub Network.
//! - *The Community Care Hub Network throughout Covid-19* (University of
//!   Leeds, LeedsACTS!, Voluntary Action Leeds, 2022): ward-based third sector
//!   hubs coordinating emergency food, prescriptions and welfare calls, with
//!   Voluntary Action Leeds as connector to Leeds City Council.
//! - The Carnegie UK Trust *Pooling Together* and *Covid Conversations*
//!   pieces (Lancaster case study) and the National Lottery Community Fund
//!   *Community infrastructure* page (Your Scholes, Voluntary Action Leeds).
//!
//! Each hub's dimensions follow what its report says (see the `//` comment
//! above each entry; "inferred" marks a dimension the report does not
//! state). The Leeds report names no individual hubs, so the Leeds ward hub
//! names are illustrative. Services are realistic examples, not a directory:
//! their kinds come from the reports, but days, times, prices and street
//! addresses are made up. Coordinates are the real places, approximately
//! (4 decimal places); postcodes have the right district for the town.
//! Phone numbers are fictional: Ofcom's drama ranges 01632 960xxx and
//! 0113 496 0xxx, apart from the At The Grange rows, kept exactly as in
//! `GRANGE_SERVICES_CSV` (01253 000xxx, which cannot be dialled) and the
//! police non-emergency number 101.
//!
//! Taxonomy terms come from one small shared vocabulary so that searches
//! work across hubs: Food; Cost of living; Advice; Employment; Youth;
//! Wellbeing; Mental health; Digital inclusion; Learning; Social; Older
//! people; Families; Community safety; Venues; Health.

/// One hub of the demo network, with its profile, its place in the four
/// dimensions of the Lancashire report's Table 3 and its services.
pub struct SeedHub {
    /// Short stable key used for folder names, e.g. "grange".
    pub key: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub area_served: &'static str,
    pub address_1: &'static str,
    pub city: &'static str,
    pub postal_code: &'static str,
    pub latitude: f64,
    pub longitude: f64,
    /// Any of "dedicated", "pop-up", "virtual".
    pub space: &'static [&'static str],
    /// "community-led" | "statutory-led" | "partnership"
    pub governance: &'static str,
    /// "generic" | "specialised"
    pub focus: &'static str,
    /// "first-level" | "second-level"
    pub coordination: &'static str,
    /// Which demo aggregator crawls it: "lancashire" or "leeds".
    pub region: &'static str,
    /// Services in the hub CSV import format (header row first).
    pub services_csv: &'static str,
}

/// The hubs of the demo network: 9 in region "lancashire", 5 in "leeds".
///
/// Deliberate features that tests rely on:
///
/// - **Exactly two cross-hub probable duplicates**, each the same service
///   published by two hubs of one region, with the same organization, phone,
///   description, place and hours and a near-identical name:
///   - Lancashire: "Citizens Advice Lancashire West debt advice surgery"
///     (`greenhill`) and "Citizens Advice Lancashire West debt advice surgery
///     (Greenhill)" (`west-lancs-family-hubs`); organization "Citizens Advice
///     Lancashire West", phone 01632 960400, at Greenhill Community Hub,
///     Skelmersdale, `WE 10:00-13:00`.
///   - Leeds: "Welfare Rights benefits check surgery" (`armley`) and
///     "Welfare Rights benefit check surgery (Armley)" (`leeds-network`);
///     organization "Leeds City Council Welfare Rights Unit", phone
///     0113 496 0300, at Armley Community Care Hub, `FR 10:00-12:30`.
///
///   Every other service name is clearly different from every service name
///   of every other hub.
/// - **Weekends**: e.g. At The Grange "Library" (SA), The Bay (Barrow)
///   "South Walney seal and seabird walks" (SA) and "Earnse Bay rockpooling
///   for families" (SU), Gregson "Pay-as-you-feel café" (SA), Armley
///   "Saturday family breakfast" (SA), Your Scholes "Village litter pick" (SU).
/// - **Evenings** (ending after 18:00): e.g. Greenhill "Men's mental health
///   peer group" (TU 18:30-20:30), Gregson "Thursday folk session"
///   (TH 20:00-22:30), Armley "Friday night youth project" (FR 18:30-21:00),
///   Revoelution "Youth football at Bloomfield Road" (TH 18:00-19:30).
/// - **Professional referral only** (`access` is just
///   `professional-referral`): The Bay (Barrow) "Six-week green prescription
///   course" and Leeds network "Leeds Welfare Support Service food referrals".
/// - **A coverage gap**: in region "lancashire", "Employment" is offered only
///   in Blackpool (Revoelution "Job Club"). No hub offers Employment in the
///   Lancaster/Morecambe area (`lancaster`, `gregson`, `bay-morecambe`), nor
///   anywhere else outside Blackpool. In "leeds", Armley offers "Job search
///   and CV help".
/// - Every CSV row has latitude and longitude. Two hubs list a service at
///   another hub's place (the duplicates above), and Lancaster Community Hub
///   and The Bay (Morecambe) both use the Arndale Centre, Morecambe. One
///   service has no opening hours (Your Scholes "Scholes online noticeboard",
///   an online group).
pub const SEED_HUBS: &[SeedHub] = &[
    // Lancashire community hubs report (UCLan), Box 1 vignette "At The Grange - Blackpool":
    // dedicated physical place, community-led, generic, first-level. Groundwork runs it in the
    // former social centre of the Grange Park estate: café with discounted meals, food pantry,
    // room and theatre hire, laundry; a library and the neighbourhood policing team co-located.
    // The services are the same as `GRANGE_SERVICES_CSV` in `demo/mod.rs`.
    SeedHub {
        key: "grange",
        name: "At The Grange",
        description: "A community hub in the former social centre of the Grange Park estate, run by Groundwork with the local council.",
        area_served: "Grange Park estate, Blackpool",
        address_1: "Dinmore Avenue",
        city: "Blackpool",
        postal_code: "FY3 7RW",
        latitude: 53.8240,
        longitude: -3.0146,
        space: &["dedicated"],
        governance: "community-led",
        focus: "generic",
        coordination: "first-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy
Community café,"Hot meals at a discount, a warm room and a chat. Everyone welcome.",,01253 000101,Anyone,£2.50 a meal,walk-in,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,"MO,TU,WE,TH,FR 09:00-14:00",Food; Social
Food pantry,"Weekly shop of fresh and store-cupboard food for members, for a small fee.",,01253 000102,People living on or near the Grange Park estate,£5 a week,walk-in; self-referral,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,"TU,TH 10:00-13:00",Food; Cost of living
Laundry,"Washing machines and dryers for people without their own.",,,Anyone,£1 a load,walk-in,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,"MO,WE,FR 10:00-15:00",Cost of living
Library,"Borrow books, use a computer and get help getting online.",Blackpool Libraries,,Anyone,Free,walk-in,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,"MO,WE 10:00-17:00; SA 10:00-13:00",Digital inclusion; Learning
Neighbourhood policing drop-in,"Talk to your local neighbourhood policing team in confidence.",Lancashire Constabulary,101,Anyone,Free,walk-in,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,"TH 14:00-16:00",Community safety
Theatre and room hire,"Hire the theatre space or a meeting room for community groups and events.",,01253 000103,Community groups,Ask for prices,self-referral,At The Grange,Dinmore Avenue,Blackpool,FY3 7RW,GB,53.8240,-3.0146,"MO,TU,WE,TH,FR 09:00-17:00",Venues
"#,
    },
    // Lancashire community hubs report (UCLan), Box 1 vignette "Revoelution - Blackpool":
    // dedicated physical place, community-led, generic, first-level. A Big Local hub attached to
    // the Revoe community centre; youth groups (evening football), arts and crafts, a twice-weekly
    // Job Club with benefits and internet help, a Romanian Surgery; partners Blackpool FC and
    // Blackpool Coastal Housing (section 4.1.4 d).
    SeedHub {
        key: "revoelution",
        name: "Revoelution",
        description: "A Big Local community hub attached to the community centre in Revoe, Blackpool. It runs youth groups, arts and crafts, a twice-weekly job club and a Romanian surgery, working with Blackpool Football Club and Blackpool Coastal Housing.",
        area_served: "Revoe, Blackpool",
        address_1: "Grasmere Road",
        city: "Blackpool",
        postal_code: "FY1 5HP",
        latitude: 53.8069,
        longitude: -3.0466,
        space: &["dedicated"],
        governance: "community-led",
        focus: "generic",
        coordination: "first-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Job Club,"Twice-weekly help to look for work, write a CV and apply online, and to claim the benefits you are entitled to. Computers and Wi-Fi to use.",,01632 960111,Adults looking for work or for better work,Free,,walk-in; self-referral,"Revoelution, Revoe Community Centre",Grasmere Road,Blackpool,FY1 5HP,GB,53.8069,-3.0466,"TU,TH 10:00-12:30",Employment; Advice; Digital inclusion,en
Evening youth group (11-16),"Games, cooking and a safe place to spend the evening with trained youth workers.",,01632 960112,Young people aged 11 to 16,Free,,walk-in,"Revoelution, Revoe Community Centre",Grasmere Road,Blackpool,FY1 5HP,GB,53.8069,-3.0466,"MO,WE 17:30-19:30",Youth; Social,en
Youth football at Bloomfield Road,Organised football for young people with Revoelution youth workers and Blackpool Football Club. Meet at the hub and walk down together.,Blackpool FC Community Trust,01632 960112,Young people aged 11 to 18,Free; boots can be borrowed,,walk-in,Blackpool FC Community Trust pitches,Bloomfield Road,Blackpool,FY1 6JJ,GB,53.8046,-3.0481,TH 18:00-19:30,Youth; Health,en
Arts and crafts group,"Painting, card-making and sewing in good company. Materials provided.",,01632 960111,Anyone,50p towards materials,,walk-in,"Revoelution, Revoe Community Centre",Grasmere Road,Blackpool,FY1 5HP,GB,53.8069,-3.0466,WE 13:00-15:00,Social; Wellbeing; Learning,en
Romanian surgery,"Help in Romanian with letters, forms, school places and registering with a GP, for people who find English difficult. Sprijin în limba română.",,01632 960113,Romanian speakers living in Revoe and central Blackpool,Free,,walk-in; self-referral,"Revoelution, Revoe Community Centre",Grasmere Road,Blackpool,FY1 5HP,GB,53.8069,-3.0466,FR 10:00-13:00,Advice,ro; en
Blackpool Coastal Housing tenant surgery,"Talk to a housing officer about repairs, rent arrears or moving home.",Blackpool Coastal Housing,01632 960114,Council tenants and anyone worried about their housing in Revoe,Free,,walk-in,"Revoelution, Revoe Community Centre",Grasmere Road,Blackpool,FY1 5HP,GB,53.8069,-3.0466,MO 14:00-16:00,Advice; Cost of living,en
"#,
    },
    // Lancashire community hubs report (UCLan), section 4.1.4 a) and b): Greenhill Community Hub,
    // Skelmersdale, is the report's example of a dedicated space; a community centre taken over
    // from the council by volunteers ('Volunteers Building Community') to reduce social isolation
    // and improve health and wellbeing: community-led. Generic and first-level are inferred.
    SeedHub {
        key: "greenhill",
        name: "Greenhill Community Hub",
        description: "A community centre in Skelmersdale taken over from the council and run by volunteers: 'Volunteers Building Community'. It aims to reduce social isolation and improve health, wellbeing and quality of life.",
        area_served: "Skelmersdale, West Lancashire",
        address_1: "Birch Green Road",
        city: "Skelmersdale",
        postal_code: "WN8 6PZ",
        latitude: 53.5561,
        longitude: -2.7652,
        space: &["dedicated"],
        governance: "community-led",
        focus: "generic",
        coordination: "first-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Friendship lunch club,A two-course lunch and a chat for people who live alone or feel lonely. Volunteer drivers can collect you.,,01632 960121,"Adults over 60, or anyone who feels isolated",£4 for two courses,,walk-in; self-referral,Greenhill Community Hub,Birch Green Road,Skelmersdale,WN8 6PZ,GB,53.5561,-2.7652,"TU,FR 12:00-14:00",Food; Older people; Social,en
Chatterbox befriending,"Volunteer befrienders who visit or phone every week, for people who would like more company.",,01632 960122,Adults in Skelmersdale who are lonely or isolated,Free,"Phone the hub or ask your GP, social worker or family to refer you; a volunteer will visit to get to know you.",self-referral; professional-referral,Greenhill Community Hub,Birch Green Road,Skelmersdale,WN8 6PZ,GB,53.5561,-2.7652,"MO,TU,WE,TH,FR 10:00-16:00",Social; Older people; Wellbeing,en
Tawd Valley health walks,"Gentle led walks of about an hour through Tawd Valley Park at an easy pace, ending with a cuppa at the hub.",,01632 960121,Anyone,Free,,walk-in,Tawd Valley Park (main entrance),Tawd Valley Park,Skelmersdale,WN8 6LA,GB,53.5482,-2.7868,WE 10:30-11:30,Health; Wellbeing; Older people,en
Men's mental health peer group,"An informal, confidential group where men talk about what is on their mind, with trained volunteer facilitators.",,01632 960123,Men aged 18 and over,Free,,walk-in; self-referral,Greenhill Community Hub,Birch Green Road,Skelmersdale,WN8 6PZ,GB,53.5561,-2.7652,TU 18:30-20:30,Mental health; Wellbeing,en
Winter warm room,"A heated lounge with hot drinks, Wi-Fi and newspapers from November to March. No need to buy anything.",,01632 960121,Anyone,Free,,walk-in,Greenhill Community Hub,Birch Green Road,Skelmersdale,WN8 6PZ,GB,53.5561,-2.7652,"MO,WE,TH 10:00-16:00",Cost of living; Social,en
Volunteering at Greenhill,"Help run the café, the garden or reception, meet people and gain confidence. Training and expenses provided.",,01632 960124,Anyone aged 16 and over,Free,,self-referral,Greenhill Community Hub,Birch Green Road,Skelmersdale,WN8 6PZ,GB,53.5561,-2.7652,"MO,TU,WE,TH,FR 09:30-16:30",Social; Learning,en
Citizens Advice Lancashire West debt advice surgery,"Free, confidential one-to-one help with debts, arrears, budgeting and dealing with creditors. Phone to book or drop in if a slot is free.",Citizens Advice Lancashire West,01632 960400,Anyone living in West Lancashire,Free,,walk-in; self-referral,Greenhill Community Hub,Birch Green Road,Skelmersdale,WN8 6PZ,GB,53.5561,-2.7652,WE 10:00-13:00,Advice; Cost of living,en
"#,
    },
    // Lancashire community hubs report (UCLan), section 4.1.2 'Family Hub Network' and 4.1.4 c), d):
    // led by Lancashire County Council (statutory-led), about one life stage (specialised), a
    // network of professionals delivering in schools and community centres and online rather
    // than one building (pop-up, virtual), cited as a co-ordinated network (second-level).
    // The West Lancashire instance and its services are illustrative.
    SeedHub {
        key: "west-lancs-family-hubs",
        name: "West Lancashire Family Hub Network",
        description: "Lancashire County Council's family hub network for West Lancashire: services for families with babies, children and teenagers, delivered in libraries, schools and community rooms and online, with partners from health and the voluntary sector.",
        area_served: "Skelmersdale and West Lancashire",
        address_1: "Southway",
        city: "Skelmersdale",
        postal_code: "WN8 6NL",
        latitude: 53.5497,
        longitude: -2.7768,
        space: &["pop-up", "virtual"],
        governance: "statutory-led",
        focus: "specialised",
        coordination: "second-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Stay and play for under-5s,"Play, songs and stories for babies and young children with their parents or carers, led by family hub staff.",Lancashire County Council,01632 960131,Families with children under 5,Free,,walk-in,Digmoor community room,Digmoor Road,Skelmersdale,WN8 9LX,GB,53.5387,-2.7561,"MO,TH 09:30-11:30",Families,en
Baby clinic with health visitors,"Weigh your baby and talk to a health visitor about feeding, sleep and development.",Health visiting team,01632 960132,Parents and carers of babies under 1,Free,,walk-in,Skelmersdale Library,Southway,Skelmersdale,WN8 6NL,GB,53.5497,-2.7768,TU 13:30-15:30,Health; Families,en
Early help family support,"A family support worker works with the whole family on whatever is getting in the way: routines, school attendance, money worries or relationships.",Lancashire County Council,01632 960133,Families with children aged 0 to 19 (25 with special educational needs),Free,"Ask your school, GP or health visitor to refer you, or phone the family hub line yourself.",self-referral; professional-referral,Skelmersdale Library,Southway,Skelmersdale,WN8 6NL,GB,53.5497,-2.7768,"MO,TU,WE,TH,FR 09:00-17:00",Families; Wellbeing,en
Infant feeding support,"Breastfeeding and bottle-feeding help from trained peer supporters, in the library or by video call.",,01632 960134,Parents of babies and anyone expecting,Free,,walk-in; self-referral,Skelmersdale Library,Southway,Skelmersdale,WN8 6NL,GB,53.5497,-2.7768,WE 10:00-12:00,Health; Families,en
Parenting teenagers course,"A six-week evening course for parents and carers of 11 to 18 year olds: talking and listening, boundaries, staying safe online.",Lancashire County Council,01632 960133,Parents and carers of 11 to 18 year olds in West Lancashire,Free,,self-referral; professional-referral,Skelmersdale Library,Southway,Skelmersdale,WN8 6NL,GB,53.5497,-2.7768,TH 18:00-20:00,Families; Youth; Learning,en
Citizens Advice Lancashire West debt advice surgery (Greenhill),"Free, confidential one-to-one help with debts, arrears, budgeting and dealing with creditors. Phone to book or drop in if a slot is free.",Citizens Advice Lancashire West,01632 960400,Anyone living in West Lancashire,Free,,walk-in; self-referral,Greenhill Community Hub,Birch Green Road,Skelmersdale,WN8 6PZ,GB,53.5561,-2.7652,WE 10:00-13:00,Advice; Cost of living,en
"#,
    },
    // Lancashire community hubs report (UCLan), Box 1 vignette "The Bay: A Blueprint for Recovery -
    // Barrow, Morecambe, Fleetwood": pop-up physical places, community-led, specialised, first-level.
    // Three teams, one per hub area (Barrow here); sessions helping people engage with nature for
    // wellbeing; referred via social prescribing or self-referral through The Bay's online platform.
    SeedHub {
        key: "bay-barrow",
        name: "The Bay: A Blueprint for Recovery (Barrow)",
        description: "The Bay: A Blueprint for Recovery's Barrow hub area team. Nature sessions for the wellbeing of people and of nature, run in borrowed spaces with Lancashire Wildlife Trust, Cumbria Wildlife Trust, Eden Project North and the NHS. Referral by social prescribers, or self-referral online.",
        area_served: "Barrow-in-Furness and Walney Island",
        address_1: "Abbey Road",
        city: "Barrow-in-Furness",
        postal_code: "LA14 5QR",
        latitude: 54.1226,
        longitude: -3.2204,
        space: &["pop-up"],
        governance: "community-led",
        focus: "specialised",
        coordination: "first-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
South Walney seal and seabird walks,"Slow, friendly walks among the seals and seabirds of South Walney, with time to sit, notice and breathe.",Cumbria Wildlife Trust,01632 960141,Adults who would like to feel better through time in nature,Free,"Ask your GP or social prescribing link worker to refer you, or sign up yourself on The Bay's online platform.",self-referral; professional-referral,South Walney Nature Reserve,"Carr Lane, Walney Island",Barrow-in-Furness,LA14 3YQ,GB,54.0489,-3.2002,SA 10:00-12:30,Wellbeing; Health; Social,en
Six-week green prescription course,"A small-group course of weekly nature sessions for people referred by a GP, social prescriber or mental health worker.",,01632 960142,"Adults referred for low mood, anxiety or loneliness",Free,"Only by referral: your GP, social prescribing link worker or mental health worker sends the referral.",professional-referral,Barrow Park (meet at the bandstand),Abbey Road,Barrow-in-Furness,LA14 5QR,GB,54.1226,-3.2204,TU 10:00-12:30,Mental health; Wellbeing; Health,en
Earnse Bay rockpooling for families,Explore the rockpools and strandline on Walney's west shore with The Bay team. Wellies and nets provided.,,01632 960141,Families with children of any age,Free,"Ask your GP or social prescribing link worker to refer you, or sign up yourself on The Bay's online platform.",self-referral,Earnse Bay,"Ocean Road, Walney Island",Barrow-in-Furness,LA14 3DA,GB,54.1157,-3.2648,SU 10:00-12:00,Families; Wellbeing; Learning,en
Nature journaling at the Dock Museum,Draw and write about the natural world in a calm room at the Dock Museum. No art experience needed.,,01632 960142,Adults,Free,"Ask your GP or social prescribing link worker to refer you, or sign up yourself on The Bay's online platform.",self-referral; professional-referral,The Dock Museum,North Road,Barrow-in-Furness,LA14 2PW,GB,54.1133,-3.2379,TH 13:00-15:00,Wellbeing; Mental health; Learning,en
"#,
    },
    // Lancashire community hubs report (UCLan), Box 1 vignette "The Bay: A Blueprint for Recovery -
    // Barrow, Morecambe, Fleetwood": pop-up physical places, community-led, specialised, first-level.
    // Three teams, one per hub area (Morecambe here); sessions helping people engage with nature for
    // wellbeing; referred via social prescribing or self-referral through The Bay's online platform. Sessions use a disused retail unit in the Morecambe Arndale.
    SeedHub {
        key: "bay-morecambe",
        name: "The Bay: A Blueprint for Recovery (Morecambe)",
        description: "The Bay: A Blueprint for Recovery's Morecambe hub area team. Nature sessions for the wellbeing of people and of nature, run in borrowed spaces with Lancashire Wildlife Trust, Cumbria Wildlife Trust, Eden Project North and the NHS. Referral by social prescribers, or self-referral online.",
        area_served: "Morecambe, Heysham and the Bay",
        address_1: "Arndale Centre",
        city: "Morecambe",
        postal_code: "LA4 5DH",
        latitude: 54.0717,
        longitude: -2.8686,
        space: &["pop-up"],
        governance: "community-led",
        focus: "specialised",
        coordination: "first-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
The Bay drop-in at the Arndale,"Pop into our borrowed shop unit to find out about nature sessions, sign up, or just have a brew and a chat.",,01632 960151,Anyone,Free,,walk-in; self-referral,"The Bay shop unit, Arndale Centre",Arndale Centre,Morecambe,LA4 5DH,GB,54.0717,-2.8686,"MO,WE,FR 10:00-15:00",Wellbeing; Social,en
Stone Jetty birdwatching mornings,Learn to spot the waders and seabirds of Morecambe Bay from the Stone Jetty. Binoculars to borrow.,Lancashire Wildlife Trust,01632 960152,Anyone,Free,"Ask your GP or social prescribing link worker to refer you, or sign up yourself on The Bay's online platform.",self-referral; professional-referral,Stone Jetty,Marine Road Central,Morecambe,LA4 4DB,GB,54.0736,-2.8739,WE 09:30-11:00,Wellbeing; Learning,en
Promenade beach clean,Litter-picking on the beach and promenade. Kit provided; children welcome with an adult.,,01632 960151,Anyone,Free,,walk-in,"Clock Tower, Morecambe promenade",Marine Road Central,Morecambe,LA4 4AW,GB,54.0722,-2.8669,SA 10:00-12:00,Social; Wellbeing,en
After-work nature talks,"Short evening talks on the wildlife of the Bay, from curlews to saltmarsh, followed by tea and questions.",,01632 960151,Anyone,Free,,walk-in,"The Bay shop unit, Arndale Centre",Arndale Centre,Morecambe,LA4 5DH,GB,54.0717,-2.8686,TH 18:00-19:30,Learning; Wellbeing,en
Happy Mount Park wellbeing gardening,Gentle gardening and seed-sowing outdoors for people who would like to get out of the house.,,01632 960152,Adults,Free,"Ask your GP or social prescribing link worker to refer you, or sign up yourself on The Bay's online platform.",self-referral; professional-referral,Happy Mount Park,Marine Road East,Morecambe,LA4 6SB,GB,54.0803,-2.8511,TU 10:00-12:00,Wellbeing; Mental health; Health,en
"#,
    },
    // Lancashire community hubs report (UCLan), Box 1 vignette "The Bay: A Blueprint for Recovery -
    // Barrow, Morecambe, Fleetwood": pop-up physical places, community-led, specialised, first-level.
    // Three teams, one per hub area (Fleetwood here); sessions helping people engage with nature for
    // wellbeing; referred via social prescribing or self-referral through The Bay's online platform. Sessions use Wyre Council property.
    SeedHub {
        key: "bay-fleetwood",
        name: "The Bay: A Blueprint for Recovery (Fleetwood)",
        description: "The Bay: A Blueprint for Recovery's Fleetwood hub area team. Nature sessions for the wellbeing of people and of nature, run in borrowed spaces with Lancashire Wildlife Trust, Cumbria Wildlife Trust, Eden Project North and the NHS. Referral by social prescribers, or self-referral online.",
        area_served: "Fleetwood and Wyre",
        address_1: "The Esplanade",
        city: "Fleetwood",
        postal_code: "FY7 6HF",
        latitude: 53.9262,
        longitude: -3.0130,
        space: &["pop-up"],
        governance: "community-led",
        focus: "specialised",
        coordination: "first-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Rossall Point coastal walks,"Walks along the sea wall and dunes from the observation tower, looking out over the Bay.",,01632 960161,Anyone,Free,"Ask your GP or social prescribing link worker to refer you, or sign up yourself on The Bay's online platform.",self-referral; professional-referral,Rossall Point Observation Tower,Princes Way,Fleetwood,FY7 8JZ,GB,53.9177,-3.0457,SU 10:30-12:30,Wellbeing; Health; Social,en
Marsh Nature Park conservation volunteering,"Practical habitat work at Fleetwood Marsh Nature Park: clearing paths, planting, pond-dipping.",,01632 960161,Adults; no experience needed,Free,,self-referral,Fleetwood Marsh Nature Park,Amounderness Way,Fleetwood,FY7 8QX,GB,53.9085,-3.0120,WE 10:00-13:00,Wellbeing; Social; Learning,en
Mindfulness by the sea,"Relaxation and mindfulness using the sounds and images of the coast, in a room at Marine Hall.",,01632 960162,Adults,Free,"Ask your GP or social prescribing link worker to refer you, or sign up yourself on The Bay's online platform.",self-referral; professional-referral,Marine Hall (Wyre Council),The Esplanade,Fleetwood,FY7 6HF,GB,53.9262,-3.0130,MO 13:30-15:00,Mental health; Wellbeing,en
Family wildlife explorers,"Bug hunts, bird spotting and nature crafts for children with their grown-ups.",,01632 960161,Children aged 4 to 12 with an adult,Free,,walk-in,Marine Hall (Wyre Council),The Esplanade,Fleetwood,FY7 6HF,GB,53.9262,-3.0130,SA 13:00-15:00,Families; Youth; Learning,en
"#,
    },
    // Lancashire community hubs report (UCLan), Box 1 vignette "Lancaster Community Hub - Lancaster
    // and Morecambe": pop-up physical places and virtual/digital, statutory sector-led, generic,
    // second-level. Lancaster City Council customer services with the community connector team;
    // pop-up signposting rotating between St Nicholas Arcades (Lancaster) and the shopping centre in
    // Morecambe (the report says "Allendale"; the centre is the Arndale); council tax, waste,
    // cost of living. Also the Carnegie UK Trust 'Pooling Together' Lancaster case study.
    SeedHub {
        key: "lancaster",
        name: "Lancaster Community Hub",
        description: "A joint service of Lancaster City Council customer services and the community connector team: pop-up signposting in shopping centres in Lancaster and Morecambe, online and by phone, for council services and help from local voluntary groups.",
        area_served: "Lancaster and Morecambe (Lancaster district)",
        address_1: "Dalton Square",
        city: "Lancaster",
        postal_code: "LA1 1PJ",
        latitude: 54.0469,
        longitude: -2.7993,
        space: &["pop-up", "virtual"],
        governance: "statutory-led",
        focus: "generic",
        coordination: "second-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Pop-up help point at St Nicholas Arcades,Council customer services and community connectors in the shopping centre: ask about council services or where to find local help.,,01632 960171,Anyone living in Lancaster district,Free,,walk-in,St Nicholas Arcades,St Nicholas Arcades,Lancaster,LA1 1NB,GB,54.0496,-2.8003,"MO,WE 10:00-14:00",Advice; Cost of living,en
Morecambe signposting stall in the Arndale,"The community hub's stall on alternate days: bring a council question, or find out which local group can help.",,01632 960171,Anyone living in Lancaster district,Free,,walk-in,"Arndale Centre, Morecambe",Arndale Centre,Morecambe,LA4 5DH,GB,54.0717,-2.8686,"TU,TH 10:00-14:00",Advice; Cost of living,en
Council tax support and bin collection queries,"Help with council tax bills, reductions and payment plans, and with missed bins or bulky waste collections.",Lancaster City Council,01632 960172,Lancaster district residents,Free,,walk-in; self-referral,Lancaster Town Hall,Dalton Square,Lancaster,LA1 1PJ,GB,54.0469,-2.7993,"MO,TU,WE,TH,FR 09:00-17:00",Advice; Cost of living,en
Cost of living help finder,"An online and telephone guide to grants, food support, energy help and warm spaces across Lancaster and Morecambe, kept up to date by the hub.",,01632 960173,Anyone living in Lancaster district,Free,,self-referral,Lancaster Town Hall,Dalton Square,Lancaster,LA1 1PJ,GB,54.0469,-2.7993,"MO,TU,WE,TH,FR 09:00-17:00",Cost of living; Advice; Digital inclusion,en
Community connectors for voluntary groups,"Help for voluntary, community and faith groups: finding funding, volunteers, venues and partners, and joining local networks.",Lancaster City Council,01632 960174,"Voluntary, community and faith groups in Lancaster district",Free,,self-referral,Lancaster Town Hall,Dalton Square,Lancaster,LA1 1PJ,GB,54.0469,-2.7993,"TU,TH 09:30-16:30",Advice; Social,en
"#,
    },
    // Lancashire community hubs report (UCLan), section 4.2.2 and Table 2: Gregson Community & Arts
    // Centre, Lancaster, an independent centre, "a home for people" where "age old traditions
    // carry on": dedicated, community-led; generic and first-level are inferred.
    SeedHub {
        key: "gregson",
        name: "The Gregson Community and Arts Centre",
        description: "An independent community and arts centre in Lancaster: a café, classes, music and rooms for local groups. A place where traditions carry on and people try out new things.",
        area_served: "Lancaster",
        address_1: "33 Moorgate",
        city: "Lancaster",
        postal_code: "LA1 3PY",
        latitude: 54.0466,
        longitude: -2.7889,
        space: &["dedicated"],
        governance: "community-led",
        focus: "generic",
        coordination: "first-level",
        region: "lancashire",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Pay-as-you-feel café,"Homemade soup, sandwiches and cake. Pay what you can afford, or volunteer an hour instead.",,01632 960181,Anyone,Pay as you feel,,walk-in,The Gregson Community and Arts Centre,33 Moorgate,Lancaster,LA1 3PY,GB,54.0466,-2.7889,"TU,WE,TH,FR 10:00-15:00; SA 10:00-14:00",Food; Cost of living; Social,en
Thursday folk session,An open session of traditional music and song. Bring an instrument or just listen.,,01632 960181,Anyone,Free,,walk-in,The Gregson Community and Arts Centre,33 Moorgate,Lancaster,LA1 3PY,GB,54.0466,-2.7889,TH 20:00-22:30,Social; Wellbeing,en
Pottery and painting classes,"Weekly creative classes for adults of all levels, with concessions for people on low incomes.",,01632 960182,Adults,"£6 a session, £3 concessions",,self-referral,The Gregson Community and Arts Centre,33 Moorgate,Lancaster,LA1 3PY,GB,54.0466,-2.7889,MO 10:00-12:00; WE 18:30-20:30,Learning; Wellbeing,en
Tech help for older people,"Volunteers help you use your phone, tablet or laptop: video calls, online forms, the NHS App and avoiding scams.",,01632 960181,"People over 60, or anyone new to technology",Free,,walk-in,The Gregson Community and Arts Centre,33 Moorgate,Lancaster,LA1 3PY,GB,54.0466,-2.7889,WE 14:00-16:00,Digital inclusion; Older people,en
Baby and toddler music,"Songs, rhymes and instruments for under-4s and their grown-ups.",,01632 960181,Children under 4 with an adult,£2 a family,,walk-in,The Gregson Community and Arts Centre,33 Moorgate,Lancaster,LA1 3PY,GB,54.0466,-2.7889,FR 10:00-11:00,Families,en
Studio and hall bookings,"The hall, arts studio and meeting rooms can be booked by community groups, classes and parties.",,01632 960183,Community groups and local residents,Ask for prices,,self-referral,The Gregson Community and Arts Centre,33 Moorgate,Lancaster,LA1 3PY,GB,54.0466,-2.7889,"MO,TU,WE,TH,FR 10:00-17:00",Venues,en
"#,
    },
    // Leeds Community Care Hub report (University of Leeds / LeedsACTS! / Voluntary Action Leeds,
    // 2022): VAL supported the ward hub network and connected it to Leeds City Council; emergency
    // food went through a structured referral from the council's Leeds Welfare Support Service;
    // VAL recruited, vetted and deployed volunteers (also the community infrastructure report).
    // Virtual, partnership (VAL with the council), generic, second-level.
    SeedHub {
        key: "leeds-network",
        name: "Leeds Community Care Hub Network",
        description: "The city-wide network of ward-based Community Care Hubs, supported by Voluntary Action Leeds as the connector to Leeds City Council. Emergency food referrals, volunteers, welfare calls and prescription deliveries, arranged through the hub in your ward.",
        area_served: "Leeds",
        address_1: "34 Lupton Street",
        city: "Leeds",
        postal_code: "LS10 2QW",
        latitude: 53.7852,
        longitude: -1.5318,
        space: &["virtual"],
        governance: "partnership",
        focus: "generic",
        coordination: "second-level",
        region: "leeds",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Leeds Welfare Support Service food referrals,"Emergency food for households in crisis, delivered through the ward Community Care Hubs. Referrals come through the council's Leeds Welfare Support Service.",Leeds City Council,0113 496 0201,Households in Leeds with no money for food,Free,"A support worker, advice agency or the Leeds Welfare Support Service makes the referral; the nearest Community Care Hub then arranges collection or delivery.",professional-referral,"Voluntary Action Leeds, Stringer House",34 Lupton Street,Leeds,LS10 2QW,GB,53.7852,-1.5318,"MO,TU,WE,TH,FR 09:00-17:00",Food; Cost of living,en
Volunteer with a Community Care Hub,"Sign up to volunteer in your ward. Voluntary Action Leeds carries out DBS checks, gives safeguarding training and matches you to a hub.",,0113 496 0202,Adults living or working in Leeds,Free,,self-referral,"Voluntary Action Leeds, Stringer House",34 Lupton Street,Leeds,LS10 2QW,GB,53.7852,-1.5318,"MO,TU,WE,TH,FR 09:00-17:00",Social; Learning,en
Wellbeing phone calls,"Regular friendly phone calls from trained volunteers for people who are isolated, shielding or would like someone to talk to.",,0113 496 0203,Anyone,Free,,self-referral; professional-referral,"Voluntary Action Leeds, Stringer House",34 Lupton Street,Leeds,LS10 2QW,GB,53.7852,-1.5318,"MO,TU,WE,TH,FR 10:00-16:00",Older people; Social; Wellbeing,en
Prescription collection and delivery,Volunteers collect prescriptions from your pharmacy and bring them to your door if you cannot get out.,,0113 496 0203,People in Leeds who are housebound or self-isolating,Free,,self-referral; professional-referral,"Voluntary Action Leeds, Stringer House",34 Lupton Street,Leeds,LS10 2QW,GB,53.7852,-1.5318,"MO,TU,WE,TH,FR 10:00-16:00",Health; Older people,en
Welfare Rights benefit check surgery (Armley),"A welfare rights adviser checks you are getting all the benefits you are entitled to and helps with forms, reconsiderations and appeals.",Leeds City Council Welfare Rights Unit,0113 496 0300,Leeds residents,Free,,walk-in; self-referral,Armley Community Care Hub,"Town Street, Armley",Leeds,LS12 3HN,GB,53.7978,-1.5884,FR 10:00-12:30,Advice; Cost of living,en
"#,
    },
    // Leeds Community Care Hub report: ward-based third sector hubs; this stands for the hub "with
    // access to its own community building and pre-existing strategy to provide a broad-based range
    // of community led services": dedicated, community-led, generic, first-level. Illustrative name.
    SeedHub {
        key: "armley",
        name: "Armley Community Care Hub",
        description: "The Community Care Hub for Armley ward: a local charity with its own community building, offering food, youth work, digital help and advice alongside its emergency response.",
        area_served: "Armley ward, Leeds",
        address_1: "Town Street, Armley",
        city: "Leeds",
        postal_code: "LS12 3HN",
        latitude: 53.7978,
        longitude: -1.5884,
        space: &["dedicated"],
        governance: "community-led",
        focus: "generic",
        coordination: "first-level",
        region: "leeds",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Community fridge and food share,"Surplus food from local shops and supermarkets, free to take. Bring a bag.",,0113 496 0211,Anyone,Free,,walk-in,Armley Community Care Hub,"Town Street, Armley",Leeds,LS12 3HN,GB,53.7978,-1.5884,"MO,WE,FR 12:00-15:00",Food; Cost of living,en
Job search and CV help,"One-to-one help to find jobs, write a CV and apply online, with computers to use.",,0113 496 0212,Adults looking for work,Free,,walk-in; self-referral,Armley Community Care Hub,"Town Street, Armley",Leeds,LS12 3HN,GB,53.7978,-1.5884,TU 10:00-13:00,Employment; Digital inclusion,en
Friday night youth project,"Sport, music and a safe space on Friday evenings, run by qualified youth workers at Armley Leisure Centre.",,0113 496 0213,Young people aged 11 to 18,Free,,walk-in,Armley Leisure Centre,"Carr Crofts, Armley",Leeds,LS12 3HB,GB,53.7961,-1.5906,FR 18:30-21:00,Youth; Community safety,en
Knit and natter,"A relaxed group for knitting, crochet and conversation. Wool and needles provided.",,0113 496 0211,Anyone,Free,,walk-in,Armley Community Care Hub,"Town Street, Armley",Leeds,LS12 3HN,GB,53.7978,-1.5884,TH 13:30-15:30,Social; Older people,en
Saturday family breakfast,"A free cooked breakfast and activities for parents, carers and children.",,0113 496 0211,Families with children,Free,,walk-in,Armley Community Care Hub,"Town Street, Armley",Leeds,LS12 3HN,GB,53.7978,-1.5884,SA 09:30-11:30,Food; Families,en
Computer basics course,"A four-week beginners' course: mouse and keyboard, email, and staying safe online.",,0113 496 0212,Adults new to computers,Free,,self-referral,Armley Community Care Hub,"Town Street, Armley",Leeds,LS12 3HN,GB,53.7978,-1.5884,WE 10:00-12:00,Digital inclusion; Learning,en
Welfare Rights benefits check surgery,"A welfare rights adviser checks you are getting all the benefits you are entitled to and helps with forms, reconsiderations and appeals.",Leeds City Council Welfare Rights Unit,0113 496 0300,Leeds residents,Free,,walk-in; self-referral,Armley Community Care Hub,"Town Street, Armley",Leeds,LS12 3HN,GB,53.7978,-1.5884,FR 10:00-12:30,Advice; Cost of living,en
"#,
    },
    // Leeds Community Care Hub report: a ward hub whose emergency food work "revealed previously
    // unrecognised deprivation", delivering food parcels and deliveries from borrowed premises:
    // pop-up, community-led, specialised (emergency food and welfare), first-level. Illustrative name.
    SeedHub {
        key: "harehills",
        name: "Harehills Community Care Hub",
        description: "The Community Care Hub for Gipton and Harehills ward: volunteers running emergency food, deliveries and a baby bank from a borrowed church hall, with help in community languages.",
        area_served: "Gipton and Harehills ward, Leeds",
        address_1: "Harehills Road",
        city: "Leeds",
        postal_code: "LS8 5HS",
        latitude: 53.8123,
        longitude: -1.5167,
        space: &["pop-up"],
        governance: "community-led",
        focus: "specialised",
        coordination: "first-level",
        region: "leeds",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Emergency food parcels,"Three days of food for households in crisis, collected from the church hall or delivered if you cannot travel.",,0113 496 0221,Households in Gipton and Harehills ward,Free,"Phone the hub, or ask any support worker or the Leeds Welfare Support Service to refer you.",self-referral; professional-referral,"Church hall, Harehills Road",Harehills Road,Leeds,LS8 5HS,GB,53.8123,-1.5167,"TU,FR 11:00-14:00",Food; Cost of living,en
Culturally appropriate food boxes,"Halal, vegetarian and Central European staples, packed by volunteers who speak community languages.",,0113 496 0221,Households in Gipton and Harehills ward,Free,,walk-in; self-referral,"Church hall, Harehills Road",Harehills Road,Leeds,LS8 5HS,GB,53.8123,-1.5167,TH 11:00-14:00,Food,en; ur; pa; sk; cs; ro
Doorstep deliveries for housebound neighbours,"Volunteers deliver food and essentials to people who are housebound, ill or self-isolating.",,0113 496 0222,Anyone,Free,,self-referral; professional-referral,"Church hall, Harehills Road",Harehills Road,Leeds,LS8 5HS,GB,53.8123,-1.5167,"MO,WE 10:00-15:00",Food; Older people; Health,en
Baby bank,"Nappies, formula, clothes and equipment for babies and young children, passed on free.",,0113 496 0223,Families with children under 5,Free,"Ask your health visitor, midwife or support worker, or phone us.",self-referral; professional-referral,"Community room, Harehills Lane",Harehills Lane,Leeds,LS8 4HJ,GB,53.8176,-1.5201,WE 13:00-15:00,Families; Cost of living,en
Energy and fuel debt help,"Help to apply for fuel vouchers and grants, understand your bills and get onto a fairer tariff.",,0113 496 0224,Anyone,Free,,walk-in; self-referral,"Church hall, Harehills Road",Harehills Road,Leeds,LS8 5HS,GB,53.8123,-1.5167,MO 10:00-12:00,Cost of living; Advice,en
"#,
    },
    // Leeds Community Care Hub report: a ward hub run by a small third sector organisation from
    // shared venues and by phone (welfare calls were a core hub task): pop-up and virtual,
    // community-led, generic, first-level. Illustrative name.
    SeedHub {
        key: "seacroft",
        name: "Seacroft Community Care Hub",
        description: "The Community Care Hub for Killingbeck and Seacroft ward: a small local charity working from shared venues and by phone, for young people, older people and anyone struggling with money or housing.",
        area_served: "Killingbeck and Seacroft ward, Leeds",
        address_1: "The Green, Seacroft",
        city: "Leeds",
        postal_code: "LS14 6JH",
        latitude: 53.8211,
        longitude: -1.4601,
        space: &["pop-up", "virtual"],
        governance: "community-led",
        focus: "generic",
        coordination: "first-level",
        region: "leeds",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Over-55s social afternoon,"Tea, bingo, quizzes and a natter, with a monthly trip out.",,0113 496 0231,People aged 55 and over,£1.50 including tea,,walk-in,Seacroft Community Care Hub (shared venue),"The Green, Seacroft",Leeds,LS14 6JH,GB,53.8211,-1.4601,TU 13:00-16:00,Older people; Social,en
Homework club,"A quiet space, laptops and volunteer help with homework for secondary school pupils.",,0113 496 0232,Young people aged 11 to 16,Free,,walk-in,Seacroft Community Care Hub (shared venue),"The Green, Seacroft",Leeds,LS14 6JH,GB,53.8211,-1.4601,"TU,TH 15:30-17:30",Youth; Learning,en
Saturday sports for 8-14s,"Football, rounders and games on the playing fields with sports coaches.",,0113 496 0232,Children aged 8 to 14,Free,,walk-in,South Parkway playing fields,"South Parkway, Seacroft",Leeds,LS14 6EF,GB,53.8165,-1.4688,SA 10:00-12:00,Youth; Health,en
Repair café,"Bring broken clothes, toys and small appliances. Volunteers show you how to fix them.",,0113 496 0231,Anyone,Free,,walk-in,Seacroft Community Care Hub (shared venue),"The Green, Seacroft",Leeds,LS14 6JH,GB,53.8211,-1.4601,SA 13:00-16:00,Cost of living; Learning; Social,en
Walk and talk for mums,A gentle buggy-friendly walk and chat for mums who are feeling low or alone.,,0113 496 0233,Mums and carers of young children,Free,,walk-in; self-referral,Seacroft Community Care Hub (shared venue),"The Green, Seacroft",Leeds,LS14 6JH,GB,53.8211,-1.4601,TH 10:00-11:30,Families; Mental health; Wellbeing,en
Tenancy and money help line,"Phone or message for help with rent arrears, repairs disputes, Universal Credit and budgeting. Evening call-backs available.",,0113 496 0234,Tenants and households in Killingbeck and Seacroft ward,Free,,self-referral; professional-referral,Seacroft Community Care Hub (shared venue),"The Green, Seacroft",Leeds,LS14 6JH,GB,53.8211,-1.4601,"MO,TU,WE,TH 09:00-19:00",Advice; Cost of living,en
"#,
    },
    // Community infrastructure report (National Lottery Community Fund, 2020): Your Scholes, a
    // newly formed group in Leeds whose volunteers VAL DBS-checked and trained. A mutual aid group
    // working mostly online and from a village hall: virtual and pop-up, community-led,
    // specialised (neighbourly help for people who cannot get out), first-level.
    SeedHub {
        key: "scholes",
        name: "Your Scholes",
        description: "A volunteer mutual aid group in the village of Scholes, east Leeds, formed during Covid-19 and supported by Voluntary Action Leeds: shopping, visits and a village online network.",
        area_served: "Scholes, Leeds",
        address_1: "Main Street, Scholes",
        city: "Leeds",
        postal_code: "LS15 4DP",
        latitude: 53.8272,
        longitude: -1.4251,
        space: &["virtual", "pop-up"],
        governance: "community-led",
        focus: "specialised",
        coordination: "first-level",
        region: "leeds",
        services_csv: r#"name,description,organization,phone,eligibility,fees,application_process,access,location_name,address_1,city,postal_code,country,latitude,longitude,opening_hours,taxonomy,languages
Shopping help for neighbours,"Phone in your shopping list and a village volunteer brings it round the same day, paid for on the doorstep.",,0113 496 0241,Residents of Scholes who cannot get to the shops,Free,,self-referral,Scholes village hall,"Main Street, Scholes",Leeds,LS15 4DP,GB,53.8272,-1.4251,"MO,WE,FR 10:00-13:00",Food; Older people,en
Good neighbour scheme,"A named volunteer who phones or calls round for a chat, and helps with small jobs.",,0113 496 0241,Residents of Scholes,Free,,self-referral; professional-referral,Scholes village hall,"Main Street, Scholes",Leeds,LS15 4DP,GB,53.8272,-1.4251,"MO,TU,WE,TH,FR 10:00-16:00",Social; Older people; Wellbeing,en
Village litter pick,A monthly volunteer litter pick around the village. Kit provided.,,0113 496 0242,Anyone,Free,,walk-in,Scholes village hall,"Main Street, Scholes",Leeds,LS15 4DP,GB,53.8272,-1.4251,SU 10:00-12:00,Social; Community safety,en
Scholes online noticeboard,"A village email list and online group sharing local help, events and volunteer requests, with help to join.",,0113 496 0242,Anyone,Free,,self-referral,Scholes village hall,"Main Street, Scholes",Leeds,LS15 4DP,GB,53.8272,-1.4251,,Digital inclusion; Social,en
"#,
    },
];

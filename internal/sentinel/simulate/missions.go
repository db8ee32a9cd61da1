package simulate

// missions are the simulated ministry's missions abroad: a code, the host
// country (ISO 3166-1 alpha-2) and the zone. Ninety-five of them, roughly
// where Viet Nam's embassies and consulates are.
var missions = [...]struct{ Code, Country, Zone string }{
	{"WAS", "US", "America/New_York"}, {"NYC", "US", "America/New_York"}, {"SFO", "US", "America/Los_Angeles"}, {"HOU", "US", "America/Chicago"},
	{"OTT", "CA", "America/Toronto"}, {"VAN", "CA", "America/Vancouver"}, {"MEX", "MX", "America/Mexico_City"}, {"HAV", "CU", "America/Havana"},
	{"BSB", "BR", "America/Sao_Paulo"}, {"SAO", "BR", "America/Sao_Paulo"}, {"BUE", "AR", "America/Argentina/Buenos_Aires"}, {"SCL", "CL", "America/Santiago"},
	{"LIM", "PE", "America/Lima"}, {"CCS", "VE", "America/Caracas"}, {"PAN", "PA", "America/Panama"}, {"BOG", "CO", "America/Bogota"},
	{"LON", "GB", "Europe/London"}, {"PAR", "FR", "Europe/Paris"}, {"MRS", "FR", "Europe/Paris"}, {"BER", "DE", "Europe/Berlin"},
	{"FRA", "DE", "Europe/Berlin"}, {"ROM", "IT", "Europe/Rome"}, {"MAD", "ES", "Europe/Madrid"}, {"LIS", "PT", "Europe/Lisbon"},
	{"BRU", "BE", "Europe/Brussels"}, {"AMS", "NL", "Europe/Amsterdam"}, {"BRN", "CH", "Europe/Zurich"}, {"GVA", "CH", "Europe/Zurich"},
	{"VIE", "AT", "Europe/Vienna"}, {"PRG", "CZ", "Europe/Prague"}, {"WAW", "PL", "Europe/Warsaw"}, {"BUD", "HU", "Europe/Budapest"},
	{"BUH", "RO", "Europe/Bucharest"}, {"SOF", "BG", "Europe/Sofia"}, {"BEG", "RS", "Europe/Belgrade"}, {"ATH", "GR", "Europe/Athens"},
	{"STO", "SE", "Europe/Stockholm"}, {"OSL", "NO", "Europe/Oslo"}, {"CPH", "DK", "Europe/Copenhagen"}, {"HEL", "FI", "Europe/Helsinki"},
	{"MOW", "RU", "Europe/Moscow"}, {"LED", "RU", "Europe/Moscow"}, {"VVO", "RU", "Asia/Vladivostok"}, {"IEV", "UA", "Europe/Kyiv"},
	{"MSQ", "BY", "Europe/Minsk"}, {"ALA", "KZ", "Asia/Almaty"}, {"TAS", "UZ", "Asia/Tashkent"}, {"BAK", "AZ", "Asia/Baku"},
	{"ANK", "TR", "Europe/Istanbul"}, {"THR", "IR", "Asia/Tehran"}, {"TLV", "IL", "Asia/Jerusalem"}, {"AMM", "JO", "Asia/Amman"},
	{"RUH", "SA", "Asia/Riyadh"}, {"AUH", "AE", "Asia/Dubai"}, {"DXB", "AE", "Asia/Dubai"}, {"DOH", "QA", "Asia/Qatar"},
	{"KWI", "KW", "Asia/Kuwait"}, {"CAI", "EG", "Africa/Cairo"}, {"ALG", "DZ", "Africa/Algiers"}, {"RBA", "MA", "Africa/Casablanca"},
	{"TIP", "LY", "Africa/Tripoli"}, {"ADD", "ET", "Africa/Addis_Ababa"}, {"NBO", "KE", "Africa/Nairobi"}, {"DAR", "TZ", "Africa/Dar_es_Salaam"},
	{"MPM", "MZ", "Africa/Maputo"}, {"LAD", "AO", "Africa/Luanda"}, {"PRY", "ZA", "Africa/Johannesburg"}, {"ABV", "NG", "Africa/Lagos"},
	{"DKR", "SN", "Africa/Dakar"}, {"DEL", "IN", "Asia/Kolkata"}, {"BOM", "IN", "Asia/Kolkata"}, {"DAC", "BD", "Asia/Dhaka"},
	{"CMB", "LK", "Asia/Colombo"}, {"ISB", "PK", "Asia/Karachi"}, {"KTM", "NP", "Asia/Kathmandu"}, {"RGN", "MM", "Asia/Yangon"},
	{"BKK", "TH", "Asia/Bangkok"}, {"KKC", "TH", "Asia/Bangkok"}, {"VTE", "LA", "Asia/Vientiane"}, {"LPQ", "LA", "Asia/Vientiane"},
	{"PNH", "KH", "Asia/Phnom_Penh"}, {"KUL", "MY", "Asia/Kuala_Lumpur"}, {"SIN", "SG", "Asia/Singapore"}, {"JKT", "ID", "Asia/Jakarta"},
	{"MNL", "PH", "Asia/Manila"}, {"BWN", "BN", "Asia/Brunei"}, {"DIL", "TL", "Asia/Dili"}, {"BJS", "CN", "Asia/Shanghai"},
	{"CAN", "CN", "Asia/Shanghai"}, {"HKG", "CN", "Asia/Hong_Kong"}, {"TYO", "JP", "Asia/Tokyo"}, {"OSA", "JP", "Asia/Tokyo"},
	{"SEL", "KR", "Asia/Seoul"}, {"CBR", "AU", "Australia/Sydney"}, {"WLG", "NZ", "Pacific/Auckland"},
}

// departments are the simulated headquarters' units in Ha Noi, with how
// many of the headquarters' staff each holds (relative) and whether they
// handle citizens' dossiers from missions (consular work).
var departments = [...]struct {
	Code     string
	Weight   int
	Consular bool
}{
	{"VPB", 6, false}, {"TCCB", 4, false}, {"TTR", 2, false}, {"CLS", 8, true}, {"NVN", 5, true}, {"LPQT", 4, false},
	{"TTBC", 4, false}, {"KTDN", 4, false}, {"ASEAN", 4, false}, {"DBA", 3, false}, {"DNA", 3, false}, {"CAU", 4, false},
	{"CMY", 3, false}, {"TDTNA", 3, false}, {"CPHD", 3, false}, {"LHQ", 4, false}, {"BG", 3, false}, {"LT", 3, true},
	{"HVNG", 3, false}, {"QTTV", 3, false}, {"TCTT", 4, false}, {"NGDP", 3, false}, {"VHDN", 2, false}, {"CNTT", 3, false},
	{"CYB", 2, false},
}

package catalog

import "strings"

// CompetencyArea is one of the digital-economy competency areas in which
// the adult scheme (personal digital certificate) funds advanced-training
// courses. The list is reference data of the scheme, not a parameter of a
// region: a course outside it cannot be bought with the certificate.
type CompetencyArea struct {
	Code string // stable, for clients and filters
	Name string // Russian, as families and registries read it; stored on the program
	// English is the name the area is known by in English; accepted on
	// input next to the code and the Russian name.
	English string
}

// CompetencyAreas lists the 22 competency areas of the adult scheme in the
// order the operator's catalogue shows them.
var CompetencyAreas = []CompetencyArea{
	{"big_data", "Большие данные", "Big data"},
	{"artificial_intelligence", "Искусственный интеллект", "Artificial intelligence"},
	{"information_security", "Информационная безопасность", "Information security"},
	{"distributed_ledger", "Системы распределённого реестра", "Distributed ledger systems"},
	{"quantum_technologies", "Квантовые технологии", "Quantum technologies"},
	{"new_manufacturing", "Новые производственные технологии", "New manufacturing technologies"},
	{"industrial_internet", "Промышленный интернет", "Industrial internet"},
	{"internet_of_things", "Интернет вещей", "Internet of things"},
	{"robotics_sensors", "Робототехника и сенсорика", "Robotics and sensors"},
	{"wireless", "Технологии беспроводной связи", "Wireless communication technologies"},
	{"virtual_augmented_reality", "Технологии виртуальной и дополненной реальности", "Virtual and augmented reality"},
	{"neurotechnologies", "Нейротехнологии", "Neurotechnologies"},
	{"programming", "Программирование и создание ИТ-продуктов", "Programming and IT products"},
	{"data_analysis", "Анализ данных", "Data analysis"},
	{"cloud", "Облачные технологии", "Cloud technologies"},
	{"it_administration", "Администрирование информационных систем", "IT systems administration"},
	{"digital_design", "Цифровой дизайн", "Digital design"},
	{"digital_marketing", "Цифровой маркетинг и медиа", "Digital marketing and media"},
	{"game_development", "Разработка компьютерных игр и мультимедийных приложений", "Game and multimedia development"},
	{"digital_transformation", "Управление цифровой трансформацией", "Digital transformation management"},
	{"digital_economy", "Цифровая экономика и электронная коммерция", "Digital economy and e-commerce"},
	{"digital_literacy", "Цифровая грамотность и цифровые сервисы", "Digital literacy and services"},
}

// competencyAliases are short forms in use before the list was reference
// data (demo, scenarios, clients), kept valid.
var competencyAliases = map[string]string{"ai": "artificial_intelligence", "ии": "artificial_intelligence"}

// LookupCompetencyArea finds the area that s names: its code, its Russian
// or English name or a known short form, in any letter case.
func LookupCompetencyArea(s string) (CompetencyArea, bool) {
	k := strings.ToLower(strings.Join(strings.Fields(s), " "))
	k = strings.ReplaceAll(k, "ё", "е")
	if code, ok := competencyAliases[k]; ok {
		k = code
	}
	for _, a := range CompetencyAreas {
		if k == a.Code || k == strings.ReplaceAll(strings.ToLower(a.Name), "ё", "е") || k == strings.ToLower(a.English) {
			return a, true
		}
	}
	return CompetencyArea{}, false
}

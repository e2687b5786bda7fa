package demo

import "github.com/edufund/edufund/catalog"

// The demo catalogue's content: what a family reads on a program's page
// (GET /v1/catalog/programs/{id}), in Russian as a region's navigator
// shows it. The addresses, phones and sites are made up; the sites and
// e-mail addresses are under the reserved .example domain.

// contacts are the providers' contacts, by the provider's key.
var contacts = map[string]catalog.Provider{
	"robo": {Address: "г. Новоград, ул. Ленина, 12, 2 этаж", Phone: "+7 (383) 200-10-01",
		Email: "info@robo.novograd.example", Site: "https://robo.novograd.example"},
	"palitra": {Address: "г. Новоград, Красный проспект, 41", Phone: "+7 (383) 200-20-02",
		Email: "palitra@art.novograd.example", Site: "https://palitra.novograd.example"},
	"sport": {Address: "с. Заречье, ул. Спортивная, 3", Phone: "+7 (38341) 5-30-03",
		Email: "club@sport.zarechye.example", Site: "https://sport.zarechye.example"},
	"digital": {Address: "г. Новоград, ул. Кирова, 86, офис 405", Phone: "+7 (383) 200-40-04",
		Email: "study@digital.example", Site: "https://digital.example/courses"},
}

// page is a program's page content; address, when set, is where its
// group meets instead of at the provider's.
type page struct {
	annotation, description, goals string
	tags                           []string
	address                        string
}

// pages are the programs' pages, by the program's key.
var pages = map[string]page{
	"robotics": {
		annotation: "Собираем и программируем роботов из конструкторов LEGO Education: от первой модели до участия в городских соревнованиях.",
		description: "На занятиях дети знакомятся с механикой, датчиками и основами программирования.\n" +
			"Каждое занятие — новая модель: манипулятор, вездеход, сортировщик.\n" +
			"В конце года команды готовят проект к городскому фестивалю робототехники.",
		goals: "Цель: развить инженерное мышление и интерес к техническому творчеству.\n" +
			"Задачи:\n- научить собирать механизмы по схеме и по замыслу;\n- освоить визуальное программирование;\n- научить работать в команде.",
		tags: []string{"робототехника", "lego", "программирование", "конструирование"},
	},
	"modelling": {
		annotation: "Трёхмерное моделирование и печать на 3D-принтере: от эскиза до готовой детали.",
		description: "Учимся моделировать в свободных программах, готовить модели к печати и печатать их.\n" +
			"Каждый участник за год создаёт и печатает собственный проект.",
		goals: "Цель: познакомить с профессиями инженера-конструктора и дизайнера.\n" +
			"Задачи:\n- освоить основы трёхмерного моделирования;\n- научить читать и строить чертежи.",
		tags: []string{"3d-моделирование", "3d-печать", "черчение", "дизайн"},
	},
	"ecology": {
		annotation: "Наблюдаем за природой родного края, ставим опыты и ведём дневник юного эколога.",
		description: "Занятия проходят в кабинете и на экскурсиях в парке.\n" +
			"Дети определяют растения и птиц, изучают воду и почву, выращивают рассаду.",
		goals: "Цель: воспитать бережное отношение к природе.\nЗадачи:\n- научить наблюдать и описывать;\n- познакомить с простыми опытами.",
		tags:  []string{"экология", "природа", "биология", "опыты"},
	},
	"football": {
		annotation: "Футбол для мальчиков и девочек: техника, тактика, командная игра и турниры района.",
		description: "Тренировки на стадионе клуба летом и в спортзале зимой.\n" +
			"Группы по возрасту; команда клуба играет в первенстве района.",
		goals: "Цель: укрепить здоровье и приучить к регулярным занятиям спортом.\n" +
			"Задачи:\n- освоить технику владения мячом;\n- научить играть в команде.",
		tags: []string{"футбол", "спорт", "командные игры"},
	},
	"painting": {
		annotation: "Живопись и рисунок: акварель, гуашь, масло; пленэры и выставки работ учеников.",
		description: "Предпрофессиональная программа художественной школы.\n" +
			"Дети осваивают рисунок, живопись и композицию, пишут с натуры, участвуют в выставках.",
		goals: "Цель: подготовить к поступлению в художественные училища.\nЗадачи:\n- освоить академический рисунок;\n- развить чувство цвета.",
		tags:  []string{"живопись", "рисование", "изобразительное искусство"},
	},
	"hikes": {
		annotation: "Походы выходного дня по Заречью: ориентирование, история сёл и туристские навыки.",
		description: "Весной и летом — однодневные походы и экскурсии в краеведческий музей.\n" +
			"Сбор групп у школы № 2, в походы дети выходят с двумя инструкторами.",
		goals:   "Цель: познакомить с историей и природой родного края.\nЗадачи:\n- научить ориентироваться на местности;\n- освоить правила безопасности в походе.",
		tags:    []string{"туризм", "краеведение", "походы", "ориентирование"},
		address: "с. Заречье, ул. Школьная, 8 (школа № 2)",
	},
	"leaders": {
		annotation: "Школа юных лидеров: проекты, публичные выступления и волонтёрство.",
		description: "Подростки учатся ставить цели, выступать и вести команду.\n" +
			"За год каждая команда готовит и проводит социальный проект в своём районе.",
		goals: "Цель: развить лидерские качества и социальную активность.\nЗадачи:\n- научить работать над проектом;\n- освоить навыки публичного выступления.",
		tags:  []string{"лидерство", "волонтёрство", "проекты", "публичные выступления"},
	},
	"python": {
		annotation: "Python для анализа данных: pandas, визуализация и основы машинного обучения за 72 часа.",
		description: "Курс повышения квалификации для взрослых, онлайн.\n" +
			"Занятия — вебинары и практические задания на реальных данных; итог — собственный проект.",
		goals: "Цель: освоить анализ данных на Python.\nЗадачи:\n- научиться готовить и исследовать данные;\n- построить простую модель машинного обучения.",
		tags:  []string{"python", "анализ данных", "машинное обучение", "онлайн"},
	},
}

// withContacts is p with the contacts and the accounting details of the
// provider key.
func withContacts(p catalog.Provider, key string) catalog.Provider {
	c := contacts[key]
	p.Address, p.Phone, p.Email, p.Site = c.Address, c.Phone, c.Email, c.Site
	p.KPP, p.Bank = accounting[key].KPP, accounting[key].Bank // accounting.go
	return p
}

// withPage is p with the page of the program key, and g with its address.
func withPage(p catalog.Program, g catalog.Group, key string) (catalog.Program, catalog.Group) {
	c := pages[key]
	p.Annotation, p.Description, p.Goals, p.Tags = c.annotation, c.description, c.goals, c.tags
	g.Address = c.address
	return p, g
}

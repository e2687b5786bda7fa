package demo

import "github.com/edufund/edufund/catalog"

// sessions are the structured weekly schedules of a few demo groups, by
// program key, so that a child's week (GET /v1/certificates/{id}/schedule)
// has something to show; the other groups keep only their free text.
var sessions = map[string][]catalog.Session{
	"robotics": {
		{Weekday: 2, Start: "16:00", End: "17:30", Place: "Робоцентр, каб. 204"},
		{Weekday: 4, Start: "16:00", End: "17:30", Place: "Робоцентр, каб. 204"},
	},
	"football": {
		{Weekday: 2, Start: "16:00", End: "17:30", Place: "стадион «Заречье», поле 2"},
		{Weekday: 4, Start: "16:00", End: "17:30", Place: "стадион «Заречье», поле 2"},
		{Weekday: 6, Start: "10:00", End: "11:30"}, // at the group's address or the club's
	},
	"painting": {
		{Weekday: 2, Start: "16:00", End: "17:30"},
		{Weekday: 4, Start: "16:00", End: "17:30"},
	},
}

package web

// RuMoney is the pages' money format, for the tests to compute what a page
// must show from what the service returns.
var RuMoney = ruMoney

// RuDate is the pages' date format, for the same.
var RuDate = ruDate

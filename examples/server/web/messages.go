package web

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/edufund/edufund/enrollment"
)

// The messages page (GET /messages): the signed-in caller's own stored
// notifications, newest first, the unread ones marked, and a button that
// marks them read (POST /messages/read). The relay words them in Russian
// when it publishes the events they come from; the page shows them as
// they are, and reads only the caller's own (Service.Notifications).

func (h *handler) messageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /messages", h.messages)
	mux.HandleFunc("POST /messages/read", h.messagesRead)
}

type messageView struct {
	ID     string
	Date   string
	Text   string
	URL    string
	Unread bool
}

type messagesPage struct {
	Messages []messageView
	Unread   int
	// More is the link to the older messages; empty on the last page.
	More string
}

// messagesShown is how many messages the page shows at once.
const messagesShown = 50

func (h *handler) messages(w http.ResponseWriter, r *http.Request) {
	u := h.signedIn(w, r, r.URL.RequestURI())
	if u == nil {
		return
	}
	f := enrollment.NotificationFilter{Limit: messagesShown}
	if s := r.URL.Query().Get("after"); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, "Неверная ссылка", "Откройте сообщения заново из меню.")
			return
		}
		f.Before = id
	}
	ns, err := h.cfg.Service.Notifications(r.Context(), u.Caller, f)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	var page messagesPage
	for _, n := range ns {
		v := messageView{ID: n.ID.String(), Date: ruDate(h.regionDate(n.At)), Text: n.Text, Unread: n.ReadAt.IsZero()}
		if n.ContractID != uuid.Nil {
			v.URL = "/contracts/" + n.ContractID.String()
		}
		if v.Unread {
			page.Unread++
		}
		page.Messages = append(page.Messages, v)
	}
	if len(ns) == messagesShown {
		page.More = "/messages?after=" + ns[len(ns)-1].ID.String()
	}
	h.render(w, r, http.StatusOK, "messages", "Сообщения", page)
}

// messagesRead marks the listed messages read: the service leaves alone
// any id that is not the caller's own.
func (h *handler) messagesRead(w http.ResponseWriter, r *http.Request) {
	u := h.signedIn(w, r, "/messages")
	if u == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, http.StatusBadRequest, "Неверная форма", "Откройте сообщения заново и отправьте форму с них.")
		return
	}
	var ids []uuid.UUID
	for _, s := range r.PostForm["id"] {
		id, err := uuid.Parse(s)
		if err != nil {
			h.fail(w, r, http.StatusBadRequest, "Неверная форма", "Откройте сообщения заново и отправьте форму с них.")
			return
		}
		ids = append(ids, id)
	}
	if len(ids) > 0 {
		if _, err := h.cfg.Service.MarkRead(r.Context(), u.Caller, ids); err != nil {
			h.internal(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/messages", http.StatusSeeOther)
}

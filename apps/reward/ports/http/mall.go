package http

import (
	nethttp "net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/govern/kit/auth"
	"github.com/govern/kit/httpx"

	"github.com/govern/reward/domain"
	"github.com/govern/reward/metrics"
)

type itemJSON struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Price int64  `json:"price"`
	Stock int64  `json:"stock"`
}

func itemOut(it domain.Item) itemJSON {
	return itemJSON{SKU: it.SKU, Name: it.Name, Price: it.Price, Stock: it.Stock}
}

// addItemRequest uses pointers so that a missing number is told apart from 0.
type addItemRequest struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Price *int64 `json:"price"`
	Stock *int64 `json:"stock"`
}

func (s *Server) addItem(c *gin.Context) {
	var req addItemRequest
	if err := httpx.DecodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Price == nil || req.Stock == nil {
		fail(c, httpx.BadRequest("price and stock are required"))
		return
	}
	it, err := s.app.AddItem.Handle(c.Request.Context(), req.SKU, req.Name, *req.Price, *req.Stock)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusCreated, itemOut(it))
}

func (s *Server) listCatalog(c *gin.Context) {
	limit, err := httpx.Limit(c)
	if err != nil {
		fail(c, err)
		return
	}
	after, err := decodeCursor(c.Query("cursor"))
	if err != nil {
		fail(c, err)
		return
	}
	page, err := s.app.ListCatalog.Handle(c.Request.Context(), after, limit)
	if err != nil {
		fail(c, err)
		return
	}
	out := struct {
		Items      []itemJSON `json:"items"`
		NextCursor string     `json:"next_cursor,omitempty"`
	}{Items: make([]itemJSON, len(page.Items))}
	for i, it := range page.Items {
		out.Items[i] = itemOut(it)
	}
	if page.NextAfterSKU != "" {
		out.NextCursor = encodeCursor(page.NextAfterSKU)
	}
	c.JSON(nethttp.StatusOK, out)
}

func (s *Server) getItem(c *gin.Context) {
	it, err := s.app.GetItem.Handle(c.Request.Context(), c.Param("sku"))
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, itemOut(it))
}

func (s *Server) setStock(c *gin.Context) {
	var req struct {
		Stock *int64 `json:"stock"`
	}
	if err := httpx.DecodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if req.Stock == nil {
		fail(c, httpx.BadRequest("stock is required"))
		return
	}
	it, err := s.app.SetStock.Handle(c.Request.Context(), c.Param("sku"), *req.Stock)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(nethttp.StatusOK, itemOut(it))
}

type redemptionJSON struct {
	RedemptionID string    `json:"redemption_id"`
	UserID       string    `json:"user_id"`
	SKU          string    `json:"sku"`
	Quantity     int64     `json:"quantity"`
	Points       int64     `json:"points"`
	At           time.Time `json:"at"`
}

func redemptionOut(r domain.Redemption) redemptionJSON {
	return redemptionJSON{RedemptionID: r.ID, UserID: r.UserID, SKU: r.SKU, Quantity: r.Quantity,
		Points: r.Points, At: r.At.UTC()}
}

// ReplayedHeader marks the repetition of a key's first answer.
const ReplayedHeader = "Idempotent-Replayed"

func (s *Server) redeem(c *gin.Context) {
	var req struct {
		UserID   string `json:"user_id"`
		SKU      string `json:"sku"`
		Quantity int64  `json:"quantity"`
	}
	if err := httpx.DecodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if auth.From(c).UserID != req.UserID {
		fail(c, httpx.Forbidden("users redeem only their own points"))
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if err := domain.ValidateIdempotencyKey(key); err != nil {
		fail(c, err)
		return
	}
	r, err := domain.NewRedemptionRequest(req.UserID, req.SKU, req.Quantity)
	if err != nil {
		fail(c, err)
		return
	}
	answer, err := s.app.Redeem.Handle(c.Request.Context(), key, r)
	metrics.Redemption(answer.Refusal, answer.Replayed, err)
	if err != nil {
		fail(c, err)
		return
	}
	if answer.Replayed {
		c.Header(ReplayedHeader, "true")
	}
	if answer.Refusal != nil {
		fail(c, answer.Refusal)
		return
	}
	c.JSON(nethttp.StatusCreated, redemptionOut(answer.Redemption))
}

// listRedemptions lists one user's redemptions (the caller's own when user_id
// is left out); operators may list anyone's, or everyone's without user_id.
func (s *Server) listRedemptions(c *gin.Context) {
	who := auth.From(c)
	userID, given := c.GetQuery("user_id")
	if !given && !who.IsOps() {
		userID = who.UserID
	}
	if userID != "" && !who.Is(userID) {
		fail(c, httpx.Forbidden("only the user or an operator may list these redemptions"))
		return
	}
	if given {
		if err := domain.ValidateUserID(userID); err != nil {
			fail(c, err)
			return
		}
	}
	limit, err := httpx.Limit(c)
	if err != nil {
		fail(c, err)
		return
	}
	before, err := decodeSeqCursor(c.Query("cursor"))
	if err != nil {
		fail(c, err)
		return
	}
	page, err := s.app.ListRedemptions.Handle(c.Request.Context(), userID, before, limit)
	if err != nil {
		fail(c, err)
		return
	}
	out := struct {
		Items      []redemptionJSON `json:"items"`
		NextCursor string           `json:"next_cursor,omitempty"`
	}{Items: make([]redemptionJSON, len(page.Items))}
	for i, r := range page.Items {
		out.Items[i] = redemptionOut(r)
	}
	if page.NextBeforeSeq != 0 {
		out.NextCursor = encodeSeqCursor(page.NextBeforeSeq)
	}
	c.JSON(nethttp.StatusOK, out)
}

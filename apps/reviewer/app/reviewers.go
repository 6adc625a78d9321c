package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/govern/reviewer/domain"
)

// SetProfile validates and stores an operator-supplied profile.
func (s *Service) SetProfile(ctx context.Context, userID string, tags []string, lastActiveAt time.Time) (domain.Profile, error) {
	p, err := domain.NewProfile(userID, tags, lastActiveAt, s.now())
	if err != nil {
		return domain.Profile{}, err
	}
	stored, err := s.repo.UpsertProfile(ctx, p)
	if err != nil {
		return domain.Profile{}, fmt.Errorf("store profile of %s: %w", userID, err)
	}
	return stored, nil
}

// RecordActivity applies a user-activity event.
func (s *Service) RecordActivity(ctx context.Context, userID string, at time.Time) error {
	if err := domain.ValidateActivity(userID, at, s.now()); err != nil {
		return err
	}
	if err := s.repo.RecordActivity(ctx, userID, at.UTC()); err != nil {
		return fmt.Errorf("record activity of %s: %w", userID, err)
	}
	return nil
}

// Reviewer returns a juror's state (candidate when the profile does not
// match the pool rule in force), stats and recent transitions.
func (s *Service) Reviewer(ctx context.Context, userID string) (domain.Reviewer, error) {
	if err := domain.ValidateUserID(userID); err != nil {
		return domain.Reviewer{}, err
	}
	r, err := s.repo.Reviewer(ctx, userID)
	if err != nil {
		return domain.Reviewer{}, fmt.Errorf("load reviewer %s: %w", userID, err)
	}
	r.State = r.ShownState(s.Settings.PoolRule(), s.now())
	return r, nil
}

// OpenTasks lists a juror's open tasks, oldest first.
func (s *Service) OpenTasks(ctx context.Context, jurorID string, after *TaskCursor, limit int) ([]domain.Task, error) {
	if err := domain.ValidateUserID(jurorID); err != nil {
		return nil, err
	}
	tasks, err := s.repo.OpenTasks(ctx, jurorID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list open tasks of %s: %w", jurorID, err)
	}
	return tasks, nil
}

// ChangeState moves a juror to another state on behalf of actor; a user may
// only pause or resume themselves.
func (s *Service) ChangeState(ctx context.Context, c domain.StateChange) (domain.Reviewer, error) {
	if err := c.Validate(); err != nil {
		return domain.Reviewer{}, err
	}
	if c.Reason == "" {
		c.Reason = "set by " + c.Actor
	}
	tr, changed, err := s.repo.ChangeState(ctx, c, nil)
	if err != nil {
		return domain.Reviewer{}, fmt.Errorf("change state of %s: %w", c.UserID, err)
	}
	if changed {
		s.log.InfoContext(ctx, "juror state changed", "user_id", c.UserID, "from", tr.From, "to", tr.To,
			"actor", tr.Actor, "reason", tr.Reason)
	}
	return s.Reviewer(ctx, c.UserID)
}

// PoolRule returns the rule in force.
func (s *Service) PoolRule() domain.PoolRule { return s.Settings.PoolRule() }

// Fatigue returns the limits in force.
func (s *Service) Fatigue() domain.Fatigue { return s.Settings.Fatigue() }

// Adjustment returns the adjustment rule in force.
func (s *Service) Adjustment() domain.AdjustmentRule { return s.Settings.Adjustment() }

// SetPoolRule validates, stores and applies the operator's rule.
func (s *Service) SetPoolRule(ctx context.Context, j PoolRuleJSON) (domain.PoolRule, error) {
	rule, err := ParsePoolRule(j)
	if err != nil {
		return domain.PoolRule{}, err
	}
	return rule, s.saveSetting(ctx, KeyPoolRule, PoolRuleToJSON(rule))
}

// SetFatigue validates, stores and applies the operator's limits.
func (s *Service) SetFatigue(ctx context.Context, j FatigueJSON) (domain.Fatigue, error) {
	f, err := ParseFatigue(j)
	if err != nil {
		return domain.Fatigue{}, err
	}
	return f, s.saveSetting(ctx, KeyFatigue, FatigueToJSON(f))
}

// SetAdjustment validates, stores and applies the operator's adjustment rule.
func (s *Service) SetAdjustment(ctx context.Context, j AdjustmentJSON) (domain.AdjustmentRule, error) {
	a, err := ParseAdjustment(j)
	if err != nil {
		return domain.AdjustmentRule{}, err
	}
	return a, s.saveSetting(ctx, KeyAdjustment, AdjustmentToJSON(a))
}

// saveSetting stores a validated setting and installs it on this replica at
// once; the other replicas receive it through the configuration store.
func (s *Service) saveSetting(ctx context.Context, key string, v any) error {
	value, err := json.Marshal(v)
	if err != nil {
		return err
	}
	version, err := s.repo.SaveSetting(ctx, key, value)
	if err != nil {
		return fmt.Errorf("store setting %s: %w", key, err)
	}
	s.Settings.Apply(Setting{Key: key, Value: value, Version: version})
	s.log.InfoContext(ctx, "setting changed", "key", key, "version", version, "value", string(value))
	return nil
}

// ReloadSettings reads every stored setting into this replica's cache.
func (s *Service) ReloadSettings(ctx context.Context) error {
	stored, err := s.repo.StoredSettings(ctx)
	if err != nil {
		return fmt.Errorf("load settings: %w", err)
	}
	for _, st := range stored {
		s.Settings.Apply(st)
	}
	return nil
}

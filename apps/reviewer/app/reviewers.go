package app

import (
	"context"
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

// Reviewer returns a juror's state and stats.
func (s *Service) Reviewer(ctx context.Context, userID string) (domain.Reviewer, error) {
	if err := domain.ValidateUserID(userID); err != nil {
		return domain.Reviewer{}, err
	}
	r, err := s.repo.Reviewer(ctx, userID)
	if err != nil {
		return domain.Reviewer{}, fmt.Errorf("load reviewer %s: %w", userID, err)
	}
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

// PoolRule returns the rule in force.
func (s *Service) PoolRule(ctx context.Context) (domain.PoolRule, error) {
	r, err := s.repo.PoolRule(ctx)
	if err != nil {
		return domain.PoolRule{}, fmt.Errorf("load pool rule: %w", err)
	}
	return r, nil
}

// SetPoolRule validates and stores the operator's rule.
func (s *Service) SetPoolRule(ctx context.Context, requiredTags []string, activeWithin string) (domain.PoolRule, error) {
	rule, err := domain.NewPoolRule(requiredTags, activeWithin)
	if err != nil {
		return domain.PoolRule{}, err
	}
	if err := s.repo.SetPoolRule(ctx, rule); err != nil {
		return domain.PoolRule{}, fmt.Errorf("store pool rule: %w", err)
	}
	return rule, nil
}
